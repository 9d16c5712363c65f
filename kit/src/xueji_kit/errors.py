"""The error answers every service gives, as its OpenAPI document describes them: one shared model instead of
FastAPI's `{loc, msg, type}` (the services never answer that), and the statuses a route can answer besides 2xx.

422 names each problem as `{field, reason, in}`, always a list; a rule's refusal adds `rule` and `reason` beside
`detail` (`RuleRefused`); 403 and 409 refusals name the rule too; 401, 404, 413 and 503 carry a sentence in `detail`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, HTTPException
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from xueji_kit.idempotency import KEY_PATTERN, takes_key


class FieldProblem(BaseModel):
    """One problem of a request: the field (dotted path), why, and where the field was."""

    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(examples=["id_number"])
    reason: str = Field(examples=["the check character does not match (R06)"])
    in_: Literal["body", "query", "path", "header"] = Field(alias="in")


class InvalidRequest(BaseModel):
    """422: every problem of the request, each naming its field; a rule's refusal also names the rule and the
    reason beside `detail`."""

    model_config = ConfigDict(extra="allow")

    detail: list[FieldProblem]
    rule: str | None = None
    reason: str | None = None


class RuleRefused(HTTPException):
    """A domain rule found the request invalid: answered 422 in the shape of every other 422 (`detail` lists the
    field, the reason and where the field was), with the rule and its reason beside `detail` for a client that acts
    on the rule."""

    def __init__(self, rule: str | None, reason: str, field: str | None = None, where: str = "body") -> None:
        problem = {"field": field or "<request>", "reason": f"{rule}: {reason}" if rule else reason, "in": where}
        super().__init__(422, [problem])
        self.rule = rule
        self.reason = reason

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "rule": self.rule, "reason": self.reason}


class Problem(BaseModel):
    """401, 403, 404, 409, 413, 503: what went wrong in a sentence (or the problems, or the refusal), and for a
    rule's refusal the rule, the reason and the state it found."""

    model_config = ConfigDict(extra="allow")

    detail: str | list[FieldProblem] | dict[str, Any]
    rule: str | None = None
    reason: str | None = None


_SENTENCES = {
    "401": "No valid operator token (missing, expired, wrongly signed or for another audience)",
    "403": "The operator's role may not do this, or the named jurisdiction is not theirs (R50)",
    "404": "No such resource in the operator's jurisdiction (an outsider hears the same as for a missing one)",
    "409": "A rule refused it in the resource's present state (the answer names the rule)",
    "413": "The body is larger than this route takes; refused before it is read",
    "422": "The request is invalid: each problem names the field and the reason",
    "503": "A dependency (the store, the broker, the token key) is unavailable; retry later",
}


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    if not path.startswith("/v1/"):
        return ["422"] if operation.get("parameters") or operation.get("requestBody") else []
    found = ["401", "403", "503"]
    if "{" in path:
        found.append("404")
    if method != "get":
        found.append("409")
    if operation.get("requestBody"):
        found.append("413")
    if operation.get("requestBody") or operation.get("parameters") or method != "get":
        found.append("422")
    return found


_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeat a request safely (IETF httpapi Idempotency-Key draft): a retry with the same key gets the "
    "first answer, status and body, with no second effect. Keys are the caller's own (the token's subject). The "
    "same key with another request answers 422; while the first request with it still runs, 409 with Retry-After.",
    "schema": {"type": "string", "pattern": KEY_PATTERN},
}
_KEY_STATUSES = {
    "409": " Also: the first request with this Idempotency-Key is still running (retry after Retry-After).",
    "422": " Also: this Idempotency-Key came with a different request before (field `Idempotency-Key`).",
}


def _document_key(operation: dict[str, Any]) -> None:
    """Every write route takes the header (xueji_kit.idempotency): named once, with its own description."""
    parameters = [p for p in operation.get("parameters", []) if p.get("name", "").lower() != "idempotency-key"]
    operation["parameters"] = [*parameters, _KEY_PARAMETER]
    for status, sentence in _KEY_STATUSES.items():
        operation["responses"][status]["description"] += sentence


def describe_errors(app: FastAPI) -> None:
    """The app's OpenAPI document with the shared error models on every route."""

    def document() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for model in (InvalidRequest, Problem):
            generated = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
            schemas.update(generated.pop("$defs", {}))
            schemas[model.__name__] = generated
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for status in _statuses(path, method, operation):
                    model = InvalidRequest if status == "422" else Problem
                    responses[status] = {"description": _SENTENCES[status], **_ref(model)}
                if takes_key(method, path):
                    _document_key(operation)
        app.openapi_schema = schema
        return schema

    app.openapi = document  # type: ignore[method-assign]
