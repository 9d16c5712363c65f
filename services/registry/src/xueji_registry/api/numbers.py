"""R03 routes: a bureau starts the spring G-number batch for its jurisdiction and reads the batch's report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import Role
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry.api.common import service_of
from xueji_registry.numbers.formal import report, start

router = APIRouter(prefix="/v1", tags=["numbers"])


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jurisdiction: str | None = Field(default=None, pattern=r"^\d{6}(\d{4})?$", description="default: the operator's")
    school_year: int = Field(ge=2000, le=2099, description="the spring semester's school year, e.g. 2026")


@router.post("/formal-numbers/batches", status_code=status.HTTP_202_ACCEPTED,
             summary="R03: start the spring G-number batch for a jurisdiction (county bureau and above)")  # fmt: skip
async def start_batch(body: BatchBody, operator: Operator, request: Request) -> dict[str, Any]:
    code = body.jurisdiction or operator.code
    require_jurisdiction(operator, code, at_least=Role.COUNTY)
    return await start(service_of(request), operator, code, body.school_year)


@router.get(
    "/formal-numbers/batches/{batch_id}", summary="R03: a batch's report: issued, held with the reason, waiting"
)
async def batch_report(batch_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    code = batch_id.partition("-")[2]
    if not code:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no batch {batch_id}")
    require_jurisdiction(operator, code, at_least=Role.COUNTY)
    return await report(service_of(request), batch_id)
