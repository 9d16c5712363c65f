"""Bulk enrollment from a clerk's spreadsheet: every bad row reported in one pass (R06: the ID number's own reason),
the good ones enrolled, a re-run enrolls nobody twice; CSV (UTF-8 or GB18030) and XLSX with Chinese headers."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from http_fixtures import today_in_china
from openpyxl import Workbook
from registry_driver import verdict

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.dedupe import VerdictKind
from xueji_kit import store_commands
from xueji_kit.store import connect
from xueji_registry.app import create_app
from xueji_registry.enrollment.requests import _request, student_of
from xueji_registry.enrollment.sheet_files import FileProblem, read_table
from xueji_registry.enrollment.sheet_rows import check, row_correlation
from xueji_registry.enrollment.upload_answer import Outcome, summary
from xueji_registry.settings import RegistrySettings

SCHOOL = "3506020001"
CHILD = "350602201903151237"
CLASS = [
    ["姓名", "性别", "出生日期", "身份证件号", "年级", "民族", "备注"],
    ["林小明", "男", "2019/3/15", "350602201903151237", "一年级", "汉族", "ignored column"],
    ["陈思雨", "女", "2019-05-01", "350602201905010163", "1", "畲族", ""],
    ["王五", "男", "2019.13.01", "", "1", "", ""],  # no such month
    ["赵六", "女", "2019-02-02", "350602201902020021", "1", "", ""],  # wrong check character
    ["", "男", "2019-02-03", "", "1", "", ""],  # no name
    ["林小明", "男", "2019-03-15", "350602201903151237", "1", "", ""],  # the same child again
    ["", "", "", "", "", "", ""],  # a blank line at the end
]
# The class sheet corrected after its upload: 林小明's name fixed and his ethnicity left out; 陈思雨's row as it was.
CORRECTED = [CLASS[0], ["林晓明", "男", "2019/3/15", "350602201903151237", "一年级", "", ""], *CLASS[2:]]


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(r) for r in rows).encode(encoding)


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "content"), [("class.csv", _csv(CLASS)), ("班级.csv", _csv(CLASS, "gb18030")),
                                               ("class.xlsx", _xlsx(CLASS))])  # fmt: skip
def test_r06_every_bad_row_is_reported_with_row_column_and_reason_in_one_pass(name, content):
    checked = check(read_table(name, content), SCHOOL, 2026)
    assert checked.rows == 6
    assert [row for row, _ in checked.good] == [2, 3]
    assert checked.good[0][1].birth_date.isoformat() == "2019-03-15" and checked.good[0][1].grade == 1
    assert checked.good[1][1].basic.ethnicity == "畲族"
    problems = {(e.row, e.field, e.column): e.reason for e in checked.errors}
    assert set(problems) == {(4, "birth_date", "出生日期"), (5, "id_number", "身份证件号"), (6, "name", "姓名"),
                             (7, "id_number", "身份证件号")}  # fmt: skip
    assert "check character" in problems[(5, "id_number", "身份证件号")]
    assert problems[(7, "id_number", "身份证件号")] == "the same student as row 2"


def _xlsx_numbers(rows: list[list[object]]) -> bytes:
    return _xlsx(rows)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        # Excel keeps 15 significant digits of a number: an ID typed into a General cell comes back as
        # 3.50602201903151E+17, in the workbook and in a CSV saved from it.
        ("class.xlsx", _xlsx_numbers([CLASS[0], ["林小明", "男", "2019/3/15", 350602201903151237, "1", "", ""]])),
        ("class.csv", _csv([CLASS[0], ["林小明", "男", "2019/3/15", "3.50602201903151E+17", "1", "", ""]])),
        ("class.csv", _csv([CLASS[0], ["林小明", "男", "2019/3/15", "3.50602E+17", "1", "", ""]])),
    ],
)
def test_r06_an_id_number_excel_kept_as_a_number_is_refused_saying_to_format_the_column_as_text(name, content):
    """Its last digits are gone: rebuilt from the number, it fails the check character 10 times in 11 and names
    another child the 11th. Refused whatever its digits, saying what happened and what to do."""
    checked = check(read_table(name, content), SCHOOL, 2026)
    assert checked.good == []
    [error] = checked.errors
    assert (error.row, error.field, error.column) == (2, "id_number", "身份证件号")
    assert "15 digits" in error.reason and "text" in error.reason and "文本" in error.reason


def test_a_file_without_the_needed_columns_or_format_is_refused_whole():
    with pytest.raises(FileProblem, match="年级"):
        check(read_table("c.csv", _csv([["姓名", "性别", "出生日期"], ["林", "男", "2019-01-01"]])), SCHOOL, 2026)
    with pytest.raises(FileProblem, match=r"\.csv or \.xlsx"):
        read_table("class.pdf", b"%PDF")
    with pytest.raises(FileProblem, match="workbook"):
        read_table("class.xlsx", b"not a zip")


@pytest.mark.integration
async def test_r01_r14_upload_enrolls_the_good_rows_and_a_rerun_enrolls_nobody_twice(
    start_app, dedupe_stub, token, wait_for
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    form = {"school_code": SCHOOL, "school_year": "2026"}
    upload = {"file": ("class.xlsx", _xlsx(CLASS), "application/octet-stream")}
    async with dedupe_stub():
        first = await registry.post("/v1/students/bulk", files=upload, data=form, headers=school)
        assert first.status_code == 200, first.text
        result = first.json()
        assert (result["rows"], result["requested"], result["already_requested"]) == (6, 2, 0)
        assert [e["row"] for e in result["errors"]] == [4, 5, 6, 7]
        again = (await registry.post("/v1/students/bulk", files=upload, data=form, headers=school)).json()
        assert (again["requested"], again["already_requested"]) == (0, 2)
        assert [s["student_id"] for s in again["students"]] == [s["student_id"] for s in result["students"]]

        async def enrolled() -> bool:
            views = [(await registry.get(f"/v1/students/{s['student_id']}", headers=school)).json()
                     for s in result["students"]]  # fmt: skip
            return all(v.get("state") == "enrolled" for v in views)

        await wait_for(enrolled)

    other = {"Authorization": f"Bearer {token('school', '3506020002')}"}
    refused = await registry.post("/v1/students/bulk", files=upload, data=form, headers=other)
    assert refused.status_code == 403  # R50: a school imports into itself only
    unreadable = {"file": ("class.xlsx", b"not a workbook", "application/octet-stream")}
    bad = await registry.post("/v1/students/bulk", files=unreadable, data=form, headers=school)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "file"


def test_r14_a_corrected_row_of_a_student_requested_before_is_told_apart_from_the_same_row_again():
    """Rows are keyed by school and person (the ID number): a corrected row is the request made before, which
    stands as first asked. The answer says so per row, naming each field, its column and what was asked first."""
    first = check(read_table("class.csv", _csv(CLASS)), SCHOOL, 2026)
    again = check(read_table("class.csv", _csv(CORRECTED)), SCHOOL, 2026)
    pairs = zip(again.good, first.good, strict=True)
    outcomes = [Outcome(row, body, f"stu_{row}", asked) for (row, body), (_, asked) in pairs]
    answer = summary(again, outcomes)
    assert (answer["requested"], answer["already_requested"], answer["already_requested_otherwise"]) == (0, 1, 1)
    assert [s["differs"] for s in answer["students"]] == [["basic.ethnicity", "name"], []]
    kept = {(k["row"], k["field"], k["column"]): k["reason"] for k in answer["not_applied"]}
    assert set(kept) == {(2, "basic.ethnicity", "民族"), (2, "name", "姓名")}
    assert "林小明" in kept[(2, "name", "姓名")] and "not applied" in kept[(2, "name", "姓名")]
    assert "汉族" in kept[(2, "basic.ethnicity", "民族")]


@pytest.mark.integration
async def test_r14_a_corrected_re_upload_is_reported_as_not_applied_and_the_same_file_again_as_requested_before(
    start_app, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    form = {"school_code": SCHOOL, "school_year": "2026"}

    async def upload(rows: list[list[str]]) -> dict:
        answer = await registry.post("/v1/students/bulk", files={"file": ("class.xlsx", _xlsx(rows), "x")}, data=form,
                                     headers=school)  # fmt: skip
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = await upload(CLASS)
    assert (first["requested"], first["already_requested"], first["already_requested_otherwise"]) == (2, 0, 0)
    corrected = await upload(CORRECTED)
    assert (corrected["requested"], corrected["already_requested"], corrected["already_requested_otherwise"]) == (
        0, 1, 1)  # fmt: skip
    assert [(s["student_id"], s["new"], s["differs"]) for s in corrected["students"]] == [
        (first["students"][0]["student_id"], False, ["basic.ethnicity", "name"]),
        (first["students"][1]["student_id"], False, []),
    ]
    assert [(k["row"], k["field"], k["column"]) for k in corrected["not_applied"]] == [
        (2, "basic.ethnicity", "民族"), (2, "name", "姓名")]  # fmt: skip
    student = first["students"][0]["student_id"]
    view = (await registry.get(f"/v1/students/{student}", headers=school)).json()
    assert view["state"] == "awaiting_duplicate_check"  # the request as first asked, nothing asked again
    events = registry.app.state.runtime.events
    assert (await events.first(f"enrollment:{student}"))["events"][0]["request"]["name"] == "林小明"
    same = await upload(CLASS)
    assert (same["requested"], same["already_requested"], same["already_requested_otherwise"]) == (0, 2, 0)
    assert same["not_applied"] == [] and all(s["differs"] == [] for s in same["students"])


@contextlib.contextmanager
def _registry_over_http(isolation, signing_keys, database: str) -> Iterator[str]:
    """The registry served over real HTTP on a loopback port, in a thread of its own (the CLI is a blocking client):
    its base URL."""
    import threading
    import time

    import uvicorn
    from common import free_port

    settings = RegistrySettings(**{**isolation.settings_env(), "mongodb_database": f"{isolation.database}_{database}",
                                   "jwt_public_key": signing_keys[1], "scheduler_enabled": False})  # fmt: skip
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.mark.integration
def test_the_cli_lists_the_bad_rows_and_imports_the_good_ones_through_the_api(
    isolation, signing_keys, token, tmp_path, capsys
):
    """The command a clerk runs, against the registry served over real HTTP on a loopback port."""
    from xueji_registry.bulk_cli import main

    with _registry_over_http(isolation, signing_keys, "cli") as url:
        sheet = tmp_path / "class.xlsx"
        sheet.write_bytes(_xlsx(CLASS))
        argv = [str(sheet), "--school", SCHOOL, "--year", "2026", "--url", url, "--token", token("school", SCHOOL)]
        assert main(argv) == 1  # imported, but some rows were bad
        printed = capsys.readouterr().err
        assert "row 5" in printed and "check character" in printed
        assert "enrolment requested for 2 students; 0 had been requested before" in printed
        assert main(argv) == 1
        assert "requested for 0 students; 2 had been requested before" in capsys.readouterr().err
        sheet.write_bytes(_xlsx(CORRECTED))
        assert main(argv) == 1
        printed = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
        assert "row 2 姓名: differs from this student's request uploaded before (林小明): not applied" in printed
        assert "requested for 0 students; 1 had been requested before" in printed
        assert "1 had been requested before with other data: not applied" in printed


class _AnswerLost(httpx.HTTPTransport):
    """The registry reads the first `lost` sends and answers them, and the answers never reach the clerk (the
    connection drops on the way back); every send's Idempotency-Key is noted."""

    def __init__(self, lost: int) -> None:
        super().__init__()
        self.lost, self.keys = lost, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.keys.append(request.headers.get("idempotency-key"))
        if len(self.keys) <= self.lost:
            response.read()
            response.close()
            raise httpx.ReadError("the connection dropped after the registry answered", request=request)
        return response


@pytest.mark.integration
def test_r01_the_cli_sends_a_chunk_whose_answer_was_lost_again_with_its_key_and_counts_it_as_the_first_send_did(
    isolation, signing_keys, token, tmp_path, capsys
):
    """A clerk's import over a flaky network: the registry enrolled the chunk but its answer was lost. The CLI sends
    the chunk again with the same key and reports what the first send did (2 requested), not '2 had been requested
    before'; a chunk never answered ends the run with exit code 2 and says to run it again; a new run is a new
    upload with keys of its own."""
    from xueji_registry.bulk_cli import TRIES, main

    with _registry_over_http(isolation, signing_keys, "cli_lost") as url:
        sheet = tmp_path / "class.xlsx"
        sheet.write_bytes(_xlsx(CLASS))
        argv = [str(sheet), "--school", SCHOOL, "--year", "2026", "--url", url, "--token", token("school", SCHOOL)]
        lossy = _AnswerLost(lost=1)
        assert main(argv, transport=lossy, pause=0.05) == 1  # row 5 is bad
        printed = capsys.readouterr().err
        assert "enrolment requested for 2 students; 0 had been requested before" in printed, printed
        assert len(lossy.keys) == 2 and lossy.keys[0] == lossy.keys[1] and lossy.keys[0], lossy.keys
        never = _AnswerLost(lost=TRIES)
        assert main(argv, transport=never, pause=0.01) == 2
        printed = " ".join(capsys.readouterr().err.split())
        assert f"no answer after {TRIES} sends (ReadError" in printed and "run the command again" in printed, printed
        assert len(set(never.keys)) == 1 and never.keys[0] != lossy.keys[0]
        assert main(argv) == 1
        assert "requested for 0 students; 2 had been requested before" in capsys.readouterr().err


@pytest.mark.integration
async def test_r01_the_cli_lists_a_row_still_refused_and_exits_1(
    isolation, signing_keys, token, tmp_path, capsys, dedupe_stub, wait_for
):
    """R01: a sheet whose every row is good imports with exit code 0; once dedupe refused a row's request as a
    duplicate, the same sheet again lists that row as still refused, with its file row, the rule and the reason,
    counts it, and exits 1 (the clerk has rows to correct)."""
    from xueji_registry.bulk_cli import main

    existing = "stu_existing"

    def answer(check: dict[str, Any]) -> Any:
        kind = VerdictKind.DUPLICATE if check.get("id_number") == CHILD else VerdictKind.UNIQUE
        return verdict(kind, existing if kind is VerdictKind.DUPLICATE else None)(check)

    sheet = tmp_path / "class.csv"
    sheet.write_bytes(_csv([CLASS[0], CLASS[2], CLASS[1]]))  # 林小明 (CHILD) on the file's row 3
    with _registry_over_http(isolation, signing_keys, "cli_refused") as url:
        argv = [str(sheet), "--school", SCHOOL, "--year", "2026", "--url", url, "--token", token("school", SCHOOL)]
        async with dedupe_stub(answer):
            assert await asyncio.to_thread(main, argv) == 0
            capsys.readouterr()
            [(_, child)] = [(n, r) for n, r in check(read_table("class.csv", sheet.read_bytes()), SCHOOL, 2026).good
                            if r.id_number == CHILD]  # fmt: skip
            student = student_of(row_correlation(child))
            school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}

            async def refused() -> bool:
                async with httpx.AsyncClient(base_url=url, headers=school) as client:
                    return (await client.get(f"/v1/students/{student}")).json().get("state") == "refused"

            await wait_for(refused, timeout=45)
        assert await asyncio.to_thread(main, argv) == 1
    printed = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert f"row 3 row: refused (R01): this person already has a status record ({existing})" in printed, printed
    assert "row 2" not in printed, printed
    assert "requested for 0 students; 1 had been requested before" in printed, printed
    assert "1 had been refused and were sent as they were: still refused" in printed, printed


def test_r14_the_cli_sends_every_checked_row_as_the_registry_reads_it_each_guardian_as_typed():
    """bulk_cli sends the rows it checked as CSV chunks: read there, each is the request it checked. A guardians list
    written into one cell reached the duplicate check as one guardian named "['陈建国', '林美华']"."""
    from xueji_registry.bulk_cli import _csv as chunk

    header = [*CLASS[0][:5], "父亲姓名", "母亲姓名", "民族"]
    rows = [header, ["林小明", "男", "2019/3/15", CHILD, "1", "陈建国", "林美华", "汉族"],
            ["陈思雨", "女", "2019-05-01", "350602201905010163", "1", "", "", ""]]  # fmt: skip
    checked = [request for _, request in check(read_table("class.csv", _csv(rows)), SCHOOL, 2026).good]
    assert checked[0].basic.guardians == ("陈建国", "林美华")
    sent = check(read_table("chunk.csv", chunk(checked)), SCHOOL, 2026)
    assert (sent.errors, [request for _, request in sent.good]) == ([], checked)


def test_r14_the_guardian_and_household_register_columns_travel_to_the_duplicate_check():
    """监护人姓名 (one or several names) and 户籍所在地 are evidence for the duplicate check (R14)."""
    table = [
        ["姓名", "性别", "出生日期", "年级", "监护人姓名", "户籍所在地"],
        ["陈宇晨", "男", "2019-03-15", "1", "陈建国、林美华", "350602"],
        ["陈宇辰", "男", "2019-03-15", "1", "陈建国", "35060"],
    ]
    checked = check(table, "3506020001", 2026)
    [(_, request)] = checked.good
    assert request.basic.guardian_names() == ("陈建国", "林美华")
    assert request.basic.household_register == "350602"
    [error] = checked.errors
    assert (error.row, error.field, error.column) == (3, "basic.household_register", "户籍所在地")

    operator = OperatorClaims(sub="clerk", role=Role.SCHOOL, code="3506020001")
    stream, _ = _request("35", request, operator, uuid.uuid4(), datetime.now(UTC))
    asked = stream.outgoing[0].message.payload
    assert (asked.guardians, asked.household_register) == (("陈建国", "林美华"), "350602")


@pytest.mark.integration
async def test_a_class_enrolled_at_once_is_not_read_back_by_the_relays_follower(
    start_app, dedupe_stub, token, wait_for, isolation
):
    """Issue 19 (bulk import at speed): the relay's follower reads no stream of a bulk import, neither the enrollment
    requests' (they have no follow-ups) nor the new records' (followed up at once while the relay published them),
    and every record still has its follow-ups (the school register lists the whole class)."""
    store_commands.install()  # before the app's store client is made
    rows = [CLASS[0][:5]] + [[f"学生{i}", "男", "2019-03-15", "", "1"] for i in range(40)]
    database = f"{isolation.database}_RegistrySettings"
    store = connect(isolation.servers.mongodb)[database]
    with store_commands.counting(database) as log:
        registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
        school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
        form = {"school_code": SCHOOL, "school_year": "2026"}
        async with dedupe_stub():
            upload = {"file": ("class.csv", _csv(rows), "text/csv")}
            answer = await registry.post("/v1/students/bulk", files=upload, data=form, headers=school)
            assert answer.status_code == 200 and answer.json()["requested"] == 40, answer.text

            async def followed_and_drained() -> bool:
                listed = await store["school_register"].count_documents({})
                return listed == 40 and await store["events_outbox"].count_documents({}) == 0

            await wait_for(followed_and_drained, timeout=60)
    # (the follower reads in tasks of its own: counted by collection, not by scope) A school's roster stream is read
    # when the class opens it; no stream per student.
    reads = [c for c in log.commands if c.kind == "find" and c.collection == "events"]
    assert len(reads) < 5, store_commands.tally(log.commands)


@pytest.mark.integration
async def test_a_class_enrolled_at_once_costs_the_store_a_few_documents_per_student_and_no_scan(
    start_app, dedupe_stub, token, wait_for, isolation
):
    """Issue 19 (bulk import at speed), pinned on the real store: from the upload to the published records, what the
    registry writes per student (its request and its record, R07 claim and number, the register entry) and no more;
    R03 counters a document per block of 1,000 and the R02 deadlines' timers a pack per minute, not per student; the
    class's messages in the outbox as one entry per batch, not one per student; no command that scans a collection.
    A cut undone (or a read-back per student added) fails here."""
    store_commands.install()
    students = 60
    rows = [CLASS[0][:5]] + [[f"学生{i}", "男", "2019-03-15", "", "1"] for i in range(students)]
    first = [CLASS[0][:5], ["预先", "女", "2019-04-01", "", "1"]]
    database = f"{isolation.database}_RegistrySettings"
    store = connect(isolation.servers.mongodb)[database]
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    form = {"school_code": SCHOOL, "school_year": "2026"}
    async with dedupe_stub():  # one student first: the school's roster opens, the indexes are made
        warm = await registry.post("/v1/students/bulk", files={"file": ("first.csv", _csv(first), "text/csv")},
                                   data=form, headers=school)  # fmt: skip
        assert warm.status_code == 200, warm.text
        await wait_for(lambda: _drained(store, 1), timeout=60)
    with store_commands.counting(database) as log:
        upload = {"file": ("class.csv", _csv(rows), "text/csv")}
        answer = await registry.post("/v1/students/bulk", files=upload, data=form, headers=school)
        assert answer.status_code == 200 and answer.json()["requested"] == students, answer.text
        await _answer_at_once(isolation, students)  # as dedupe answers a class: one batch of verdicts
        await wait_for(lambda: _drained(store, students + 1), timeout=60)
    registry_commands = [c for c in log.commands if c.scope != "test"]
    written = {k: n / students for k, n in _documents(registry_commands, "insert").items()}
    shown = (written, store_commands.tally(registry_commands))
    for collection, most in (("events", 2), ("allocations", 2), ("timers_m<minute>", 0.1), ("school_register", 1)):
        assert written.get(collection, 0) <= most + 0.05, shown
    assert written.get("events_outbox", 0) <= 0.1, shown  # the requests' entry and the records'
    assert sum(1 for c in registry_commands if c.kind == "find" and c.collection == "events") <= 2, shown
    # The relay's reads: the head of the outbox (as many entries as it publishes) and which of them are confirmed.
    relay = {"find events_outbox {}", "find events_outbox_confirmed {'_id': {'$in': '?'}}"}
    assert set(store_commands.scans(registry_commands)) <= relay, shown


@pytest.mark.integration
async def test_r02_a_class_s_packed_deadline_timers_fire_though_an_earlier_version_finished_their_minutes(
    start_app, token, wait_for, isolation
):
    """A class's R02 timers are filed as packs (issue 19), which a scheduler of an earlier version does not read: had
    it run (a rollback) past their minutes, it would have finished them without firing them. The compliance scheduler
    that reads packs keeps a progress of its own, so they still fire."""
    from datetime import timedelta

    from registry_driver import advance_to

    from xueji_kit.timers import LATE_MARGIN, minute_of

    students = 20
    rows = [CLASS[0][:5]] + [[f"学生{i}", "女", "2019-03-15", "", "1"] for i in range(students)]
    database = f"{isolation.database}_RegistrySettings"
    client = connect(isolation.servers.mongodb)
    store = client[database]
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    upload = {"file": ("class.csv", _csv(rows), "text/csv")}
    answer = await registry.post("/v1/students/bulk", files=upload, data={"school_code": SCHOOL, "school_year": "2026"},
                                 headers=school)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["requested"] == students, answer.text
    await _answer_at_once(isolation, students)
    await wait_for(lambda: _drained(store, students), timeout=60)
    await registry.app.state.registry.behind.finished()  # the class's timers armed (after its register entries)
    compliance = registry.app.state.compliance
    minutes = [n for n in await store.list_collection_names() if n.startswith("timers_m")]
    assert [n for n in minutes if await store[n].find_one({"packed": {"$exists": True}})], "the class's timers packed"
    due = max(t["due_at"] for t in await compliance.store.armed())
    # This version's scheduler has run: the school's R54 roster is past due, armed through a note in the minute of
    # now + LATE_MARGIN (the next one, late in a minute), which is where its timers fire.
    await compliance.tick(datetime.now(UTC) + LATE_MARGIN)
    # Then an earlier version's scheduler (a rollback) finished every minute up to an hour past the deadlines.
    await store["timer_progress"].insert_one({"_id": "registry-compliance", "minute": minute_of(due) + 60})
    fired = await asyncio.wait_for(advance_to(compliance, due + timedelta(minutes=2)), 60)  # (never, were they skipped)
    assert fired >= 2 * students  # due soon and overdue
    await client.close()


async def _answer_at_once(isolation, checks: int) -> None:
    """Read `checks` dedupe checks and answer each "unique" (as `dedupe_stub` does), all in one batch."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from registry_driver import unique

    from xueji_contracts.envelope import envelop
    from xueji_contracts.topics import DEDUPE_CHECK, DEDUPE_VERDICT

    consumer = AIOKafkaConsumer(isolation.topic(DEDUPE_CHECK.name), bootstrap_servers=isolation.servers.kafka,
                                group_id=f"{isolation.topic_prefix}dedupe-stub", auto_offset_reset="earliest")  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka, linger_ms=50)
    await consumer.start()
    await producer.start()
    try:
        asked = []
        while len(asked) < checks:
            asked += [r for rs in (await consumer.getmany(timeout_ms=10_000)).values() for r in rs]
        sent = []
        for record in asked:
            request = json.loads(record.value)
            verdict = envelop(unique(request["payload"]), producer="dedupe-stub", province="35",
                              occurred_at=datetime.now(UTC), correlation_id=uuid.UUID(request["correlation_id"]))  # fmt: skip
            sent.append(await producer.send(isolation.topic(DEDUPE_VERDICT.name), verdict.model_dump_json().encode()))
        await asyncio.gather(*sent)
    finally:
        await consumer.stop()
        await producer.stop()


async def _drained(store, listed: int) -> bool:
    with store_commands.scope("test"):
        listed_now = await store["school_register"].count_documents({})
        return listed_now == listed and await store["events_outbox"].find_one() is None


def _documents(commands, kind: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for c in commands:
        if c.kind == kind:
            key = store_commands.collection_kind(c.collection)
            found[key] = found.get(key, 0) + c.statements
    return found


def test_r06_r14_a_sheet_as_schools_write_them_headers_codes_and_grades_of_every_kind_is_read():
    """Headers with spaces in them and the names other systems export (公民身份号码, 学生姓名, 出生年月日, 父亲姓名 and
    母亲姓名 as well as 监护人), gender as the national code GB/T 2261.1 (1, 2) or written out (男性), grades as
    junior and senior schools name them (初一, 高三) or up to 十二年级, and dates exported with a time of day."""
    child = "350602201903151237"
    table = [
        ["学生姓名", "性 别", "出生年月日", "公民身份号码", "年　级", "父亲姓名", "母亲姓名"],
        ["林小明", "1", "2019-03-15 00:00:00", child, "初一", "林建国", "陈美华"],
        ["陈思雨", "女性", "2019/5/1", "", "高三", "", "陈美华"],
        ["王小五", "2", "2019-05-02", "", "十二年级", "", ""],
        ["赵小六", "男生", "2019-05-03", "", "十一", "", ""],
    ]
    checked = check(table, SCHOOL, 2026)
    assert checked.errors == []
    got = [(r.name, r.gender.value, r.birth_date.isoformat(), r.id_number, r.grade, r.basic.guardian_names())
           for _, r in checked.good]  # fmt: skip
    assert got == [
        ("林小明", "male", "2019-03-15", child, 7, ("林建国", "陈美华")),
        ("陈思雨", "female", "2019-05-01", None, 12, ("陈美华",)),
        ("王小五", "female", "2019-05-02", None, 12, ()),
        ("赵小六", "male", "2019-05-03", None, 11, ()),
    ]


def test_r14_a_row_contradicting_its_id_number_is_imported_with_a_warning_naming_row_and_column():
    table = [CLASS[0], ["林小明", "女", "2019/3/16", "350602201903151237", "1", "", ""]]
    checked = check(table, SCHOOL, 2026)
    assert [row for row, _ in checked.good] == [2] and checked.errors == []
    assert [(w.row, w.field, w.column) for w in checked.warnings] == [(2, "birth_date", "出生日期"),
                                                                       (2, "gender", "性别")]  # fmt: skip
    assert summary(checked, [])["warnings"][0]["reason"].startswith("2019-03-16 is not the birth date in the ID")


def test_r06_a_birth_column_headed_as_year_and_month_is_read_and_a_date_without_its_day_is_named():
    table = [
        ["姓名", "性别", "出生年月", "年级"],
        ["林小明", "男", "2019-03-15", "1"],
        ["陈思雨", "女", "2019.05", "1"],
    ]
    checked = check(table, SCHOOL, 2026)
    assert [row for row, _ in checked.good] == [2]
    assert [(e.row, e.field, e.column) for e in checked.errors] == [(3, "birth_date", "出生年月")]


@pytest.mark.parametrize("month", ["2012.11", "2012-11", "2012/11", "201211", "2012年11月", "2012.12"])
def test_r06_a_year_and_month_alone_is_a_row_error_never_another_day(month):
    """A two-digit month was split into a month and a day: 2012.11 enrolled as born 2012-01-01, without a word."""
    checked = check([["姓名", "性别", "出生年月", "年级"], ["陈思雨", "女", month, "1"]], SCHOOL, 2026)
    assert checked.good == []
    assert [(e.row, e.field) for e in checked.errors] == [(2, "birth_date")]
    assert "year and month only" in checked.errors[0].reason


@pytest.mark.parametrize(("written", "day"), [("43539", "2019-03-15"), ("2019 年 3 月 15 日", "2019-03-15"),
                                              ("20190315", "2019-03-15"), ("2019-3-5", "2019-03-05")])  # fmt: skip
def test_r06_dates_as_clerks_and_spreadsheets_write_them_are_read_as_that_day(written, day):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", written, "1"]], SCHOOL, 2026)
    assert checked.errors == []
    assert checked.good[0][1].birth_date.isoformat() == day


@pytest.mark.parametrize("number", ["0", "86400", "1552608000", "2019031"])
def test_r06_a_number_in_a_date_column_is_refused_not_read_as_a_unix_time(number):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", number, "1"]], SCHOOL, 2026)
    assert checked.good == []
    assert [(e.row, e.field) for e in checked.errors] == [(2, "birth_date")]
    assert "YYYY-MM-DD" in checked.errors[0].reason


@pytest.mark.parametrize("title", ["身份证件号码", "*身份证号", "身份证号(必填)", "身份证号（必填）", "身份证件号："])
def test_r14_an_id_column_headed_as_clerks_decorate_it_is_read(title):
    checked = check([["*姓名", "性别", "出生日期", title, "年级"], ["林小明", "男", "2019-03-15", CHILD, "1"]],
                    SCHOOL, 2026)  # fmt: skip
    assert checked.errors == []
    assert checked.good[0][1].id_number == CHILD


def test_r14_an_id_like_column_that_is_not_read_refuses_the_file_instead_of_enrolling_the_class_without_ids():
    """Read without it, every student would be one with no ID number: a duplicate only sent to review (R14)."""
    with pytest.raises(FileProblem, match="looks like the ID numbers"):
        check([["姓名", "性别", "出生日期", "学生身份证号码(18位)", "年级"],
               ["林小明", "男", "2019-03-15", CHILD, "1"]], SCHOOL, 2026)  # fmt: skip


@pytest.mark.parametrize("name", ["刘?", "刘？", "刘\ufffd"])
def test_a_name_that_lost_a_character_on_its_way_is_refused_naming_the_cause(name):
    """Excel's CSV on Chinese Windows writes a rare character (刘䶮) as "?": stored as typed, the child's name was gone."""
    checked = check([["姓名", "性别", "出生日期", "年级"], [name, "男", "2019-03-15", "1"]], SCHOOL, 2026)
    assert checked.good == []
    assert [(e.row, e.field) for e in checked.errors] == [(2, "name")]
    assert "UTF-8" in checked.errors[0].reason


def test_a_csv_with_old_mac_line_endings_is_read():
    content = "\r".join(["姓名,性别,出生日期,年级", "林小明,男,2019-03-15,1", "陈思雨,女,2019-05-01,1"]).encode()
    checked = check(read_table("class.csv", content), SCHOOL, 2026)
    assert [row for row, _ in checked.good] == [2, 3]


def test_r06_an_id_number_whose_last_digits_excel_zeroed_is_refused_or_flagged_saying_why():
    """A Number-formatted column saves 350602201903151237 as 350602201903151000: 10 times in 11 the check character
    fails (the error said only that), the 11th it passed silently as another child's number."""
    header = ["姓名", "性别", "出生日期", "身份证件号", "年级"]
    checked = check([header, ["林小明", "男", "2019-03-15", "350602201903151000", "1"]], SCHOOL, 2026)
    assert [(e.row, e.field) for e in checked.errors] == [(2, "id_number")]
    assert checked.errors[0].reason.startswith("ends in 000")
    # 350602201903032000: its check character happens to be 0, so it is a valid number (a girl born 2019-03-03).
    flagged = check([header, ["林小雨", "女", "2019-03-03", "350602201903032000", "1"]], SCHOOL, 2026)
    assert [row for row, _ in flagged.good] == [2]
    assert [(w.row, w.field) for w in flagged.warnings] == [(2, "id_number")]


# Written from an export's habits, not from the reader: systems that hand out class lists to schools wrap a number in
# a formula or a tab so that Excel keeps it as text, and clerks type an apostrophe for the same reason.
@pytest.mark.parametrize("written", [f'="{CHILD}"', f"'{CHILD}", f"\t{CHILD}", f"{CHILD}\t"])
def test_r06_an_id_number_an_export_marked_as_text_is_read_as_the_number(written):
    checked = check([["姓名", "性别", "出生日期", "身份证号", "年级"], ["林小明", "男", "2019-03-15", written, "1"]],
                    SCHOOL, 2026)  # fmt: skip
    assert checked.errors == []
    assert checked.good[0][1].id_number == CHILD


@pytest.mark.parametrize("written", ["15/03/2019", "03/15/2019", "15.3.2019", "3-15-2019"])
def test_r06_a_date_with_the_year_last_is_refused_saying_day_and_month_are_ambiguous(written):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", written, "1"]], SCHOOL, 2026)
    assert checked.good == []
    assert [(e.row, e.field) for e in checked.errors] == [(2, "birth_date")]
    assert "year" in checked.errors[0].reason and "YYYY-MM-DD" in checked.errors[0].reason


@pytest.mark.parametrize(("written", "day"), [("二〇一九年三月十五日", "2019-03-15"), ("二零一九年十二月三十一日", "2019-12-31"),
                                              ("二〇一九年十月一日", "2019-10-01")])  # fmt: skip
def test_r06_a_date_written_in_chinese_numerals_is_read_as_that_day(written, day):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", written, "1"]], SCHOOL, 2026)
    assert checked.errors == []
    assert checked.good[0][1].birth_date.isoformat() == day


@pytest.mark.parametrize(("grade", "year"), [("小一", 1), ("小六", 6), ("小学三年级", 3), ("初三", 9), ("高二", 11)])
def test_a_grade_written_with_its_segment_is_read(grade, year):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", "2010-05-01", grade]], SCHOOL, 2026)
    assert checked.errors == []
    assert checked.good[0][1].grade == year


@pytest.mark.parametrize("grade", ["G1", "学前班", "十三年级"])
def test_a_grade_that_is_not_one_is_refused_naming_how_grades_are_written(grade):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", "2019-05-01", grade]], SCHOOL, 2026)
    assert [(e.row, e.field, e.column) for e in checked.errors] == [(2, "grade", "年级")]
    assert "一年级" in checked.errors[0].reason and "初一" in checked.errors[0].reason


@pytest.mark.parametrize("name", ["1234", "--", "·", "12 34"])
def test_a_name_without_a_letter_is_refused(name):
    checked = check([["姓名", "性别", "出生日期", "年级"], [name, "女", "2019-05-01", "1"]], SCHOOL, 2026)
    assert [(e.row, e.field) for e in checked.errors] == [(2, "name")]


@pytest.mark.parametrize(("born", "grade"), [("1899-12-31", "1"), ("2022-05-01", "7"), ("2001-05-01", "1")])
def test_r14_a_birth_date_no_pupil_of_that_grade_has_is_imported_with_a_warning(born, grade):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", born, grade]], SCHOOL, 2026)
    assert checked.errors == [] and len(checked.good) == 1
    assert [(w.row, w.field, w.column) for w in checked.warnings] == [(2, "birth_date", "出生日期")]
    assert "years old" in checked.warnings[0].reason


@pytest.mark.parametrize(("born", "grade"), [("2019-09-01", "1"), ("2018-03-01", "1"), ("2017-03-01", "1"),
                                             ("2013-05-01", "7"), ("2009-01-01", "12")])  # fmt: skip
def test_r14_a_pupil_a_year_or_two_older_or_younger_than_the_grade_is_no_warning(born, grade):
    checked = check([["姓名", "性别", "出生日期", "年级"], ["陈思雨", "女", born, grade]], SCHOOL, 2026)
    assert checked.errors == [] and checked.warnings == []


def test_r02_a_row_admitted_after_today_in_china_is_refused_at_upload_naming_row_column_and_reason():
    """R02: status is established after admission. A row whose admission date is after today (the China date, as the
    record's creation judges it) is refused at upload with its row, column and reason, instead of being requested and
    refused minutes later once dedupe answered; admitted today, it is requested."""
    today = today_in_china()  # not a second before midnight there: `check`'s today
    table = [["姓名", "性别", "出生日期", "年级", "入学日期"],
             ["陈一", "男", "2019-03-15", "1", (today + timedelta(days=1)).isoformat()],
             ["陈二", "男", "2019-03-16", "1", today.isoformat()]]  # fmt: skip
    checked = check(table, SCHOOL, 2026)
    assert [row for row, _ in checked.good] == [3]
    [error] = checked.errors
    assert (error.row, error.field, error.column) == (2, "admitted_on", "入学日期"), error
    assert "R02" in error.reason and "in the future" in error.reason, error.reason


def test_r06_the_cli_counts_the_rows_with_problems_not_the_problems(tmp_path, capsys):
    """R06: a row can have several problems (no name and no such month): the summary counts rows, as the sheet's rows
    are counted, and says how many problems they have. No good row: nothing is sent."""
    from xueji_registry.bulk_cli import main

    sheet = tmp_path / "class.csv"
    sheet.write_bytes(_csv([CLASS[0], ["", "男", "2019.13.01", "", "1", "", ""], CLASS[4]]))
    argv = [str(sheet), "--school", SCHOOL, "--year", "2026", "--url", "http://127.0.0.1:9", "--token", "unused"]
    assert main(argv) == 1
    printed = " ".join(capsys.readouterr().err.split())
    assert "2 rows: 0 to import, 2 rows with problems (3 problems)" in printed, printed


@pytest.mark.integration
async def test_r50_a_bureau_that_uploads_a_class_or_enrolls_a_child_is_refused_before_anything_is_stored_or_asked(
    start_app, isolation, token
):
    """The school operates, the bureau verifies (R50): a county operator's class sheet or single enrollment in its own
    school is refused at once, naming R50, with no request stored and no check sent to dedupe. It was accepted (200,
    each row "requested"), dedupe was asked and held each child, and every row was then refused one by one."""
    from aiokafka import AIOKafkaConsumer

    from xueji_contracts.topics import DEDUPE_CHECK

    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    county = {"Authorization": f"Bearer {token('county', '350602')}"}
    form = {"school_code": SCHOOL, "school_year": "2026"}
    upload = {"file": ("class.xlsx", _xlsx(CLASS), "application/octet-stream")}
    sheet = await registry.post("/v1/students/bulk", files=upload, data=form, headers=county)
    assert sheet.status_code == 403 and "R50" in sheet.text and "school operator" in sheet.text, sheet.text
    child = {"school_code": SCHOOL, "name": "林小红", "gender": "female", "birth_date": "2019-04-01", "grade": 1,
             "school_year": 2026}  # fmt: skip
    single = await registry.post("/v1/students", json=child, headers=county)
    assert single.status_code == 403 and "R50" in single.text, single.text
    checks = AIOKafkaConsumer(isolation.topic(DEDUPE_CHECK.name), bootstrap_servers=isolation.servers.kafka,
                              auto_offset_reset="earliest")  # fmt: skip
    await checks.start()
    try:
        asked = await checks.getmany(timeout_ms=3000)
    finally:
        await checks.stop()
    assert sum(len(records) for records in asked.values()) == 0  # dedupe was never asked
