"""A school's own students by name, for the forms that need a student's id (the transfer application first).

R50: a school searches its own students, a bureau the schools under it; anyone else gets the answer an unknown
school gets. R52: only masked numbers leave, as on every read of a record.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry.api.common import service_of
from xueji_registry.domain import public_view

router = APIRouter(prefix="/v1", tags=["students"])
MOST = 20  # a name search is for picking one student: more hits mean the clerk types more of the name


@router.get("/students", summary="R50: a school's own students whose name contains the text (masked numbers only)")
async def search(
    operator: Operator,
    request: Request,
    school: Annotated[str, Query(pattern=r"^\d{10}$", description="the school's code")],
    name: Annotated[str, Query(min_length=1, max_length=50, description="part of the student's name")],
) -> dict[str, Any]:
    require_jurisdiction(operator, school)
    if not name.strip():  # "contains nothing" would list the school's first students, whatever the clerk meant
        raise HTTPException(422, [{"field": "name", "reason": "part of the student's name, not spaces", "in": "query"}])
    service = service_of(request)
    register = service.register
    assert register is not None, "the registry service keeps the school register"
    ids = await register.named(school, name.strip(), MOST + 1)
    found = await asyncio.gather(*(service.load(i) for i in ids[:MOST]))
    # The register says where to look; the replayed record decides (it may have left the school meanwhile).
    students = [
        public_view(state).model_dump(mode="json") | {"name": state.identity.name}
        for state in found
        if state is not None and state.school_code == school and name.strip() in state.identity.name
    ]
    students.sort(key=lambda s: (s["grade"], s["name"], s["student_id"]))
    return {"school": school, "name": name, "students": students, "more": len(ids) > MOST}
