"""POST /v1/students/bulk: a school uploads its freshman class (CSV or XLSX); every bad row is reported, the good
rows are enrolled, and uploading the same file again enrolls nobody twice; a row refused before is told so, or asked
anew once corrected (`enrollment/attempts.py`). The same upload retried with its Idempotency-Key after its answer was
lost is answered as the first one was: the rows it asked as asked now, not as asked before (`upload_of`)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import derive_id
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry.api.common import service_of
from xueji_registry.domain.authorization import may_enroll
from xueji_registry.enrollment.attempts import request_rows
from xueji_registry.enrollment.sheet_files import FileProblem
from xueji_registry.enrollment.sheet_rows import Checked, check, read_sheet
from xueji_registry.enrollment.upload_answer import Outcome, summary

router = APIRouter(prefix="/v1", tags=["enrollment"])
PATH = "/v1/students/bulk"
MAX_BYTES = 20 * 1024 * 1024
# The body limit (kit.edge.BodyGuard) refuses a larger upload with 413 before any of it is read or stored.
BODY_LIMIT = (MAX_BYTES + 64 * 1024, "file")  # the file and the multipart envelope around it
PARSING_AT_ONCE = 2  # uploads read at once per replica, each on a worker thread; the others wait their turn
CHUNK = 500  # rows requested in one bulk write
# Class uploads writing at once (per replica); the others wait their turn. Hundreds of schools uploading in the
# same minute (the start of a school year) would otherwise queue that many bulk writes on the store at once.
WRITING_AT_ONCE = 4
FILE_FORMATS = ("CSV or Excel's Unicode text (UTF-8, GB18030 or UTF-16; commas or tabs) or XLSX; a title may stand "
                "above the header")  # fmt: skip


def _unreadable(reason: str) -> HTTPException:
    return HTTPException(422, [{"field": "file", "reason": reason, "in": "body"}])


def _checked(filename: str, content: bytes, school_code: str, school_year: int) -> Checked:
    return check(read_sheet(filename, content), school_code, school_year)


def upload_of(
    operator: OperatorClaims, key: str | None, content: bytes, school_code: str, school_year: int
) -> str | None:
    """The id a keyed upload stamps on the requests it asks: the same for its retry (the same caller, key and file,
    into the same school and year), another for any other upload; None without a key (every upload a new one)."""
    if key is None:
        return None
    digest = hashlib.sha256(content).hexdigest()
    return str(derive_id("bulk", operator.sub, key, school_code, school_year, digest))


@router.post("/students/bulk", summary="Enroll a class from a CSV or XLSX file (R01, R06, R14); idempotent per row")
async def bulk_enroll(
    operator: Operator,
    request: Request,
    file: Annotated[UploadFile, File(description=FILE_FORMATS)],
    school_code: Annotated[str, Form(pattern=r"^\d{10}$")],
    school_year: Annotated[int, Form(ge=2000, le=2099)],
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    require_jurisdiction(operator, school_code, at_least=Role.SCHOOL)
    if not (enrolling := may_enroll(operator)).allowed:  # before anything is stored or dedupe is asked
        raise HTTPException(status.HTTP_403_FORBIDDEN, enrolling.reason)
    content = await file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise _unreadable(f"larger than {MAX_BYTES // (1024 * 1024)} MB: split the file")
    try:
        # Off the event loop: reading and validating a sheet is CPU work; every other request keeps answering.
        async with request.app.state.bulk_parsing:
            checked = await asyncio.to_thread(_checked, file.filename or "", content, school_code, school_year)
    except FileProblem as exc:
        raise _unreadable(str(exc)) from None
    service = service_of(request)
    upload = upload_of(operator, key, content, school_code, school_year)
    outcomes: list[Outcome] = []
    async with request.app.state.bulk_writing:
        for start in range(0, len(checked.good), CHUNK):
            rows = checked.good[start : start + CHUNK]
            asked = await request_rows(service, [body for _, body in rows], operator, upload)
            outcomes += [Outcome(row, body, a.student_id, a.first, a.refused, a.refused_before)
                         for (row, body), a in zip(rows, asked, strict=True)]  # fmt: skip
    return summary(checked, outcomes)
