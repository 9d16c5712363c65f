"""The province's school directory, published so every page shows school names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from xueji_kit.security import Operator
from xueji_registry.school_directory import SchoolDirectory

router = APIRouter(prefix="/v1", tags=["schools"])


@router.get("/schools", summary="The school directory: names of the schools under a division (default: the province)")
async def schools(
    operator: Operator,
    request: Request,
    under: Annotated[str, Query(pattern=r"^\d{0,10}$", description="division or school code prefix")] = "",
) -> dict[str, Any]:
    # Names and codes of schools are public facts; any signed-in operator may read the whole province's, so a
    # school sees the names of the schools it transfers with.
    directory: SchoolDirectory = request.app.state.school_directory
    return {"under": under, "schools": directory.under(under)}
