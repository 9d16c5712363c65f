"""R12 over HTTP and the real store: a command on a record sent again with its Idempotency-Key, after its first answer
was not kept (the process stopped after answering, or the store refused the claim's write), runs the route again; it
stores nothing twice (its commit is derived from the key) and answers what the first answer said: the version its
commit got and the record as that commit left it, also when other commits were recorded on the record since.

A change request answered the record's current version on such a retry, and an exception the latest exception of the
record, not the one its commit recorded; an R07 freshman registration drew a new commit id on every run, so its retry
was refused as a second registration (409) instead of finding the first."""

from __future__ import annotations

from typing import Any

import pytest
from http_fixtures import answer_not_kept, enrolled, evidence_json, keyed, pupil, signed_in, this_term

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020312"
PRIMARY_SCHOOL, JUNIOR_SCHOOL = "3506020212", "3506020112"
_as = signed_in(SCHOOL)


async def _retried(registry: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """The request sent again with its key, its first answer lost before it was kept: the route runs again."""
    await answer_not_kept(registry, headers["Idempotency-Key"])
    again = await registry.post(path, json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert "idempotent-replayed" not in again.headers
    return again


async def test_r12_r40_a_change_and_an_exception_retried_with_their_keys_answer_as_their_commits_left_the_record(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        (student,) = await enrolled(registry, _as(token), pupil(SCHOOL, "x", "2016-04-02", 4), "何一")
    changes, exceptions = f"/v1/students/{student}/changes", f"/v1/students/{student}/exceptions"
    school, county = keyed(_as(token), "suspend-he"), keyed(_as(token, "county", "350602"), "exception-he")

    suspend = {"reason": "因病休学", "evidence": [evidence_json("suspension_application"),
               evidence_json("medical_certificate")], "details": {"kind": "suspend", "cause": "illness",
               "term": this_term()}}  # fmt: skip
    asked = await registry.post(changes, json=suspend, headers=school)
    assert asked.status_code == 200, asked.text
    exception = {"rule": "R40", "clause": "graduation_semester", "reason": "县教育局同意毕业学期休学",
                 "evidence": [evidence_json("supporting_document")]}  # fmt: skip
    recorded = await registry.post(exceptions, json=exception, headers=county)
    assert recorded.status_code == 200, recorded.text
    # Another exception on the record, recorded after both (without a key): the retries must not answer with it.
    later = {**exception, "clause": "suspension_period", "reason": "县教育局同意延长休学"}
    after = await registry.post(exceptions, json=later, headers=_as(token, "county", "350602"))
    assert after.status_code == 200, after.text
    assert after.json()["version"] > recorded.json()["version"] > asked.json()["version"]

    assert (await _retried(registry, changes, suspend, school)).json() == asked.json()
    assert (await _retried(registry, exceptions, exception, county)).json() == recorded.json()
    history = (await registry.get(f"/v1/students/{student}/history", headers=_as(token))).json()["history"]
    assert sum(e["type"] == "change_requested" for e in history) == 1  # stored once
    assert [e["clause"] for e in history if e["type"] == "exception_recorded"] == [
        "graduation_semester",
        "suspension_period",
    ]


async def test_r07_a_freshman_registration_retried_with_its_key_registers_once_and_answers_as_the_first_time(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    primary = _as(token, code=PRIMARY_SCHOOL)
    async with dedupe_stub():
        (student,) = await enrolled(registry, primary, pupil(PRIMARY_SCHOOL, "x", "2014-03-04", 6), "吴二")
    numbering = {"county": "02", "township": "02", "school": "12"}
    graduate = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2027, "numbering": numbering}}
    graduated = await registry.post(f"/v1/students/{student}/changes", json=graduate, headers=primary)
    assert graduated.status_code == 200 and graduated.json()["state"] == "graduated", graduated.text

    path, school = f"/v1/students/{student}/freshman", _as(token, code=JUNIOR_SCHOOL)
    junior = keyed(school, "freshman-wu")
    freshman = {"school_code": JUNIOR_SCHOOL, "segment": "junior", "grade": 7, "school_year": 2027}
    registered = await registry.post(path, json=freshman, headers=junior)
    assert registered.status_code == 200, registered.text
    status_file = {"evidence": [evidence_json("status_file")]}  # a later commit on the record, without a key
    filed = await registry.post(f"/v1/students/{student}/status-file", json=status_file, headers=school)
    assert filed.status_code == 200 and filed.json()["version"] > registered.json()["version"], filed.text

    assert (await _retried(registry, path, freshman, junior)).json() == registered.json()
    history = (await registry.get(f"/v1/students/{student}/history", headers=junior)).json()["history"]
    assert sum(e["type"] == "freshman_registered" for e in history) == 1


async def test_a_change_answers_from_the_record_it_decided_reading_the_stream_back_only_on_a_retry(
    start_app, dedupe_stub, token, isolation
):
    """The answer as the commit left the record costs no read when this request stored the commit (the record as it
    decided it); only a retry, whose commit was stored before, reads the stream back up to it."""
    from xueji_kit import store_commands

    store_commands.install()  # before the app's store client is made
    database = f"{isolation.database}_RegistrySettings"
    with store_commands.counting(database) as log:
        registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
        async with dedupe_stub():
            (student,) = await enrolled(registry, _as(token), pupil(SCHOOL, "x", "2016-04-03", 4), "何二")
        suspend = {"reason": "因病休学", "evidence": [evidence_json("suspension_application"),
                   evidence_json("medical_certificate")], "details": {"kind": "suspend", "cause": "illness",
                   "term": this_term()}}  # fmt: skip
        school = keyed(_as(token), "suspend-he-er")

        def stream_reads() -> int:
            return sum(1 for c in log.commands if c.kind == "find" and c.collection == "events")

        before = stream_reads()
        await registry.app.state.registry.load(student)
        one_load = stream_reads() - before
        before = stream_reads()
        asked = await registry.post(f"/v1/students/{student}/changes", json=suspend, headers=school)
        assert asked.status_code == 200, asked.text
        first = stream_reads() - before
        before = stream_reads()
        again = await _retried(registry, f"/v1/students/{student}/changes", suspend, school)
        assert again.json() == asked.json()
        retried = stream_reads() - before
    # The route's load (authorization) and the decision's: no third read to answer (it was 6 finds, now 4).
    assert first == 2 * one_load, (one_load, first)
    assert retried > first, (first, retried)  # the retry reads the stream back to its commit
