"""Each service's OpenAPI document describes the answers it gives (issue 15, defect 10): the shared error model
for 422 (`{field, reason, in}`) and for 401/403/404/409/413/503, the spreadsheet as a spreadsheet. Built from the
apps themselves, no servers needed."""

from __future__ import annotations

from typing import Any

import pytest

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

APPS = {
    "registry": (create_registry, RegistrySettings),
    "transfer": (create_transfer, TransferSettings),
    "dedupe": (create_dedupe, DedupeSettings),
    "notify": (create_notify, NotifySettings),
}


def _document(name: str) -> dict[str, Any]:
    create, settings = APPS[name]
    return dict(create(settings(jwt_public_key="unused")).openapi())


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_route_documents_the_errors_it_answers_with_the_shared_model(name: str) -> None:
    document = _document(name)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["FieldProblem"]["properties"]) == {"field", "reason", "in"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if "422" in responses:
                schema = responses["422"]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/InvalidRequest"}, (method, path)
            if path.startswith("/v1/"):
                assert {"401", "403", "503"} <= set(responses), (method, path)
                if "{" in path:
                    assert "404" in responses, (method, path)
                if operation.get("requestBody"):
                    assert {"413", "422"} <= set(responses), (method, path)


def test_the_audit_spreadsheet_is_documented_as_a_spreadsheet() -> None:
    content = _document("registry")["paths"]["/v1/audit.xlsx"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
