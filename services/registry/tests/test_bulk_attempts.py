"""A class sheet's refused rows uploaded again (R01, R14), on the real broker and store with dedupe's answers stubbed:
a row's attempts are walked by `_id`, a row that says what a refused attempt said asks nothing (however many
attempts followed), and a re-upload costs two `_id` lookups a row asked before and no scan."""

from __future__ import annotations

import pytest
from registry_driver import verdict

from xueji_contracts.identity import check_character
from xueji_contracts.messages.dedupe import VerdictKind
from xueji_kit import store_commands
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHOOL = "3506020001"
HEADER = ["姓名", "性别", "出生日期", "身份证件号", "年级", "民族"]
ROW = ["林小明", "男", "2019-03-15", "350602201903151237", "1", "汉族"]
FIXED = [*ROW[:5], "畲族"]  # corrected, and refused again


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode()


async def _registry(start_app, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}

    async def upload(rows: list[list[str]]) -> dict:
        answer = await registry.post("/v1/students/bulk", files={"file": ("class.csv", _csv(rows), "text/csv")},
                                     data={"school_code": SCHOOL, "school_year": "2026"}, headers=school)  # fmt: skip
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def state(student_id: str) -> str:
        return (await registry.get(f"/v1/students/{student_id}", headers=school)).json()["state"]

    return upload, state


async def test_r01_r14_a_row_as_any_refused_attempt_said_it_asks_nothing_and_a_row_as_none_said_it_asks_anew(
    start_app, dedupe_stub, token, wait_for
):
    """R01 (every check answered "duplicate"): the first sheet's row refused, the corrected one refused too. The first
    sheet again is told its first refusal (no third request); the corrected one again, its own; each said once more,
    the same answer: nothing is asked twice."""
    upload, state = await _registry(start_app, token)
    async with dedupe_stub(verdict(VerdictKind.DUPLICATE, existing="stu_elsewhere")):
        first = (await upload([ROW]))["students"][0]
        await wait_for(lambda: _is(state, first["student_id"], "refused"))
        corrected = await upload([FIXED])
        second = corrected["students"][0]
        assert (corrected["requested"], second["refused_before"]) == (1, first["student_id"]), corrected
        await wait_for(lambda: _is(state, second["student_id"], "refused"))
        for rows, student in ([ROW], first), ([FIXED], second), ([ROW], first):
            again = await upload(rows)
            assert (again["requested"], again["already_requested"], again["still_refused"]) == (0, 0, 1), again
            assert (again["students"][0]["student_id"], again["students"][0]["refused"]) == (
                student["student_id"],
                True,
            )
            [refused] = again["refused"]
            assert (refused["row"], refused["field"]) == (2, "row")
            assert "R01" in refused["reason"] and "stu_elsewhere" in refused["reason"]
            # The refusal itself, for a page to say in its own language (the reason above is English).
            assert (refused["refusal"]["rule"], refused["refusal"]["existing_student_id"]) == ("R01", "stu_elsewhere")


async def test_r01_a_corrected_rows_check_names_every_refused_request_of_the_row_before_it(
    start_app, dedupe_stub, token, wait_for
):
    """R01: the check of a corrected row tells dedupe which requests of the row were refused before it, all of them (a
    dedupe replica may still hold any one it answered, its refusal on the identity feed not read yet), so that it is
    never refused as a duplicate of one of them. A row asked for the first time names none."""
    upload, state = await _registry(start_app, token)
    named: dict[str, list[str]] = {}
    duplicate = verdict(VerdictKind.DUPLICATE, existing="stu_elsewhere")

    def answer(check: dict) -> object:
        named[check["student_id"]] = check["refused_before"]
        return duplicate(check)

    refused: list[str] = []
    async with dedupe_stub(answer):
        for rows in [ROW], [FIXED], [[*ROW[:5], "回族"]]:
            refused.append((await upload(rows))["students"][0]["student_id"])
            await wait_for(lambda: _is(state, refused[-1], "refused"))
    first, second, third = refused
    assert named == {first: [], second: [first], third: [first, second]}


async def test_a_re_upload_of_rows_asked_before_costs_two_id_lookups_a_row_and_no_scan(start_app, token, isolation):
    """The bulk path at a province's scale: a first upload looks nothing up per row (its writes are a few per chunk);
    the same sheet again, two `_id` lookups a row (its request, and the refusal it may have), sent out together."""
    store_commands.install()  # before the app's store client is made
    upload, _ = await _registry(start_app, token)
    rows = [[f"学生{i}", "男", "2019-03-15", "", "1", ""] for i in range(30)]
    database = f"{isolation.database}_RegistrySettings"
    with store_commands.counting(database) as log:
        with store_commands.scope("first"):
            assert (await upload(rows))["requested"] == 30
        with store_commands.scope("again"):
            again = await upload(rows)
    assert (again["requested"], again["already_requested"], again["still_refused"]) == (0, 30, 0)
    first, repeated = log.of("first"), log.of("again")
    shown = store_commands.tally(first + repeated)
    assert [c for c in first if c.kind == "find" and c.collection == "events"] == [], shown
    assert sum(1 for c in repeated if c.kind == "find" and c.collection == "events") == 60, shown
    assert store_commands.scans(first + repeated) == [], shown


def _person(name: str, gender: str, born: str, seq: str, ethnicity: str = "汉族") -> list[str]:
    first17 = "350602" + born.replace("-", "") + seq
    return [name, gender, born, first17 + check_character(first17), "1", ethnicity]


async def test_r01_every_row_of_a_re_upload_is_counted_once_new_unchanged_changed_still_refused_corrected_or_bad(
    start_app, dedupe_stub, token, wait_for
):
    """The upload's counts add up: rows == requested + already_requested + already_requested_otherwise +
    still_refused + the rows with errors (a row with several errors counted once). A sheet uploaded again mixes
    every kind: a row as it was (already requested), one changed (the first request stands), one refused before as it
    was (still refused), one refused before and corrected (requested anew), a new one, and bad rows."""
    unchanged = _person("林一", "男", "2019-03-15", "123")
    changed = _person("林二", "女", "2019-05-01", "124")
    refused = _person("林三", "男", "2019-06-01", "135")
    mistyped = _person("林四", "女", "2019-07-01", "146")  # refused (R01), then corrected
    duplicates = {refused[3], mistyped[3]}

    def answer(check: dict) -> object:
        kind = VerdictKind.DUPLICATE if check["id_number"] in duplicates else VerdictKind.UNIQUE
        return verdict(kind, existing="stu_elsewhere" if kind is VerdictKind.DUPLICATE else None)(check)

    upload, state = await _registry(start_app, token)
    async with dedupe_stub(answer):
        first = await upload([unchanged, changed, refused, mistyped])
        expected = ["enrolled", "enrolled", "refused", "refused"]
        for student, settled in zip(first["students"], expected, strict=True):
            await wait_for(lambda s=student["student_id"], e=settled: _is(state, s, e))
        again = await upload([
            unchanged,  # row 2
            [*changed[:5], "畲族"],  # 3
            refused,  # 4
            [*mistyped[:5], "畲族"],  # 5: corrected (a row is its ID number: another one is another child)
            _person("林五", "男", "2019-08-01", "158"),  # 6: new
            ["", "", "2019-03-15", "", "1", ""],  # 7: no name, no gender: two errors, one row
            unchanged,  # 8: row 2's student again in the same sheet
        ])  # fmt: skip
    counts = {k: again[k] for k in ("requested", "already_requested", "already_requested_otherwise", "still_refused")}
    assert counts == {"requested": 2, "already_requested": 1, "already_requested_otherwise": 1, "still_refused": 1}
    bad_rows = {e["row"] for e in again["errors"]}
    assert bad_rows == {7, 8} and len(again["errors"]) == 3, again["errors"]
    assert again["rows"] == sum(counts.values()) + len(bad_rows) == 7
    told = {s["row"]: s for s in again["students"]}
    assert sorted(told) == [2, 3, 4, 5, 6], "each good row once, beside its student"
    assert told[5]["refused_before"] == first["students"][3]["student_id"] and told[4]["refused"]


async def _is(state, student_id: str, expected: str) -> bool:
    return await state(student_id) == expected
