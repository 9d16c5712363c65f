"""An R27 exception recorded in transfer reaches the R51 semester audit (registry) and the county's dashboard
(notify) over the real broker, on rules.exception.v1, like the registry's own R40 and R08 exceptions."""

from __future__ import annotations

import hashlib

import pytest

from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration
RECEIVING, COUNTY = "3506020001", "350602"


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def test_r27_an_exception_recorded_by_the_receiving_county_is_in_the_r51_audit_and_on_its_dashboard(
    start_app, token, wait_for
):
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    notify = await start_app(create_notify, NotifySettings)
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    proof = {"kind": "reason_proof", "uri": "s3://materials/reason_proof", "sha256": hashlib.sha256(b"p").hexdigest()}
    body = {"rule": "R27", "clause": "graduation_grade_last_semester", "student_id": "stu_demo_1",
            "receiving_school": RECEIVING, "reason": "监护人工作调动，学生须随迁", "evidence": [proof]}  # fmt: skip
    recorded = await transfer.post("/v1/exceptions", json=body, headers=_as(token, "county", COUNTY))
    assert recorded.status_code == 201, recorded.text
    exception_id = recorded.json()["exception_id"]
    county = _as(token, "county", COUNTY)

    async def audited() -> list:
        audit = (await registry.get("/v1/audit", headers=county)).json()
        return [e for e in audit["exceptions"] if e["exception_id"] == exception_id]

    (row,) = await wait_for(audited)
    assert (row["rule"], row["clause"], row["authority"], row["jurisdiction"]) == (
        "R27", "graduation_grade_last_semester", "county", COUNTY
    )  # fmt: skip
    assert row["reason"] == body["reason"] and row["evidence"] == [proof["uri"]]

    async def on_dashboard() -> list:
        board = (await notify.get("/v1/dashboard/exceptions", headers=county)).json()
        return [e for e in board["exceptions"] if e["exception_id"] == exception_id]

    (shown,) = await wait_for(on_dashboard)
    assert (shown["rule"], shown["school_code"], shown["operator"]) == ("R27", RECEIVING, "t-county")
    # Another county does not see it (R50).
    other = (await notify.get("/v1/dashboard/exceptions", headers=_as(token, "county", "350603"))).json()
    assert other["exceptions"] == []
