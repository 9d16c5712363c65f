"""A class sheet's upload retried with its Idempotency-Key after the answer was lost (the process stopped after
answering, the key's claim was not written, or the key expired), on the real broker and store with dedupe's answers
stubbed: the retry stores nothing twice and answers each row as the first upload did (a row it asked, `requested`),
not `already_requested`; a row refused since is told its refusal. An upload without the key stays a new upload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from http_fixtures import answer_not_kept, keyed
from registry_driver import verdict

from xueji_contracts.identity import check_character
from xueji_contracts.messages.dedupe import VerdictKind
from xueji_kit import store_commands
from xueji_kit.idempotency_claims import COLLECTION
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHOOL = "3506020001"
HEADER = ["姓名", "性别", "出生日期", "身份证件号", "年级", "民族"]


def _person(name: str, gender: str, born: str, seq: str, ethnicity: str = "汉族") -> list[str]:
    first17 = "350602" + born.replace("-", "") + seq
    return [name, gender, born, first17 + check_character(first17), "1", ethnicity]


EARLIER = _person("林一", "男", "2019-03-15", "123")  # uploaded before, without the key
NEW = _person("林二", "女", "2019-05-01", "124")
BAD = ["", "男", "2019-02-03", "", "1", ""]  # no name


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode()


async def _registry(start_app, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}

    async def upload(rows: list[list[str]], key: str | None = None) -> dict:
        headers = school if key is None else keyed(school, key)
        answer = await registry.post("/v1/students/bulk", files={"file": ("class.csv", _csv(rows), "text/csv")},
                                     data={"school_code": SCHOOL, "school_year": "2026"}, headers=headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.headers.get("idempotent-replayed") is None, "run again, not replayed"
        return answer.json()

    async def state(student_id: str) -> str:
        return (await registry.get(f"/v1/students/{student_id}", headers=school)).json()["state"]

    return registry, upload, state


async def _key_expired(registry, key: str) -> None:
    """The key's claim as it is a day later: expired, not yet pruned (a request with it runs as new)."""
    claims = registry.app.state.runtime.db[COLLECTION]
    updated = await claims.update_one({"key": key}, {"$set": {"created_at": datetime.now(UTC) - timedelta(days=2)}})
    assert updated.matched_count == 1


@pytest.mark.parametrize("lost", [answer_not_kept, _key_expired], ids=["stopped_after_answering", "key_expired"])
async def test_r01_r14_a_class_sheet_retried_with_its_key_answers_each_row_as_the_first_upload_did(
    start_app, token, isolation, lost
):
    """The first upload with the key asks one row, finds one asked by an earlier upload and names a bad one; its
    answer is lost. The retry answers exactly what the first answer said, and stores nothing: its cost is the
    re-upload's, two `_id` lookups a good row and no scan. The same sheet uploaded anew (no key)
    is the documented re-upload: every row requested before."""
    store_commands.install()  # before the app's store client is made
    registry, upload, _ = await _registry(start_app, token)
    earlier = await upload([EARLIER])
    assert earlier["requested"] == 1
    first = await upload([EARLIER, NEW, BAD], key="class-1a")
    counts = ("rows", "requested", "already_requested", "already_requested_otherwise", "still_refused")
    assert [first[k] for k in counts] == [3, 1, 1, 0, 0], first
    await lost(registry, "class-1a")

    database = f"{isolation.database}_RegistrySettings"
    with store_commands.counting(database) as log, store_commands.scope("retry"):
        retried = await upload([EARLIER, NEW, BAD], key="class-1a")
    assert retried == first
    commands = log.of("retry")
    shown = store_commands.tally(commands)
    assert sum(1 for c in commands if c.kind == "find" and c.collection == "events") == 4, shown
    # The bulk path reads by `_id` only (the key's takeover, the middleware's, matches its claim as found).
    assert store_commands.scans([c for c in commands if c.collection != COLLECTION]) == [], shown
    events = registry.app.state.runtime.events
    for student in first["students"]:  # each request stored once, as the upload that asked it stored it
        stream = f"enrollment:{student['student_id']}"
        assert await events.commits_at([(stream, 2)]) == [None]
        [asked] = (await events.first(stream))["events"]
        assert asked.get("upload") is None if student["row"] == 2 else asked["upload"], asked

    anew = await upload([EARLIER, NEW, BAD])
    assert [anew[k] for k in counts] == [3, 0, 2, 0, 0], anew
    assert [s["student_id"] for s in anew["students"]] == [s["student_id"] for s in first["students"]]


async def test_r01_a_retried_class_sheet_tells_a_corrected_row_as_asked_anew_and_a_row_refused_since_as_refused(
    start_app, dedupe_stub, token, wait_for
):
    """R01: a row refused before and corrected is asked anew by the keyed upload; a new row is refused by its verdict
    after the answer was lost. The retry tells the corrected row as the first answer did (requested, after the refused
    request), an enrolled row as requested, and the row refused since with its refusal (more use to the clerk than
    the `requested` the first answer said: the row is to be corrected); the counts add up."""
    mistyped = _person("林三", "男", "2019-06-01", "135")
    refused_later = _person("林四", "女", "2019-07-01", "146")
    duplicates = {mistyped[3], refused_later[3]}

    def answer(check: dict) -> object:
        # The corrected row's check names the request it follows, and is answered "unique".
        duplicate = check["id_number"] in duplicates and not check["refused_before"]
        kind = VerdictKind.DUPLICATE if duplicate else VerdictKind.UNIQUE
        return verdict(kind, existing="stu_elsewhere" if duplicate else None)(check)

    registry, upload, state = await _registry(start_app, token)
    async with dedupe_stub(answer):
        refused = (await upload([mistyped]))["students"][0]["student_id"]
        await wait_for(lambda: _is(state, refused, "refused"))
        sheet = [[*mistyped[:5], "畲族"], NEW, refused_later]
        first = await upload(sheet, key="class-1b")
        assert (first["requested"], first["already_requested"], first["still_refused"]) == (3, 0, 0), first
        assert first["students"][0]["refused_before"] == refused
        settled = ["enrolled", "enrolled", "refused"]
        for student, expected in zip(first["students"], settled, strict=True):
            await wait_for(lambda s=student["student_id"], e=expected: _is(state, s, e))
        await answer_not_kept(registry, "class-1b")
        retried = await upload(sheet, key="class-1b")

    counts = ("rows", "requested", "already_requested", "already_requested_otherwise", "still_refused")
    assert [retried[k] for k in counts] == [3, 2, 0, 0, 1], retried
    assert retried["students"][:2] == first["students"][:2]
    told = retried["students"][2]
    assert (told["student_id"], told["new"], told["refused"]) == (first["students"][2]["student_id"], False, True)
    [row] = retried["refused"]
    assert (row["row"], row["refusal"]["rule"], row["refusal"]["existing_student_id"]) == (4, "R01", "stu_elsewhere")


async def _is(state, student_id: str, expected: str) -> bool:
    return await state(student_id) == expected
