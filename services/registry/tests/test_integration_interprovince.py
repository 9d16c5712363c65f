"""A student moves from a Hunan (43) school to a Fujian (35) school (R34, R21 step 7), registry side, over the
real broker and store: Hunan records the student as transferred out and sends the electronic status file;
Fujian starts the record from it at the receiving school, with the same national status number."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from http_fixtures import pupil
from kafka_messages import published

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status_file import PaperRecord
from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_contracts.topics import INTERPROVINCE_FILE, STUDENT_STATUS, TRANSFER_CASE, all_topic_names
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

HUNAN_SCHOOL, FUJIAN_SCHOOL = "4301020001", "3506020001"
STUDENT = pupil(HUNAN_SCHOOL, "刘子涵", "1949-12-31", 3, gender="male", id_number="11010519491231002X")


def _auth(token, role, code) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def _case_changed(
    bootstrap: str,
    topic: str,
    student_id: str,
    province: str,
    transfer_id: str,
    outcome: CaseOutcome = CaseOutcome.COMPLETED,
    paper_record: PaperRecord | None = None,
    **progression: Any,
) -> None:
    """What each province's transfer service publishes on its own transfer.case.v1 when the case completes."""
    payload = TransferCaseChanged(
        transfer_id=transfer_id,
        outcome=outcome,
        student_id=student_id,
        sending_school=HUNAN_SCHOOL,
        receiving_school=FUJIAN_SCHOOL,
        at=datetime.now(UTC),
        paper_record=paper_record,
        **progression,
    )
    message = envelop(payload, producer="transfer", province=province, occurred_at=datetime.now(UTC))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, message.model_dump_json().encode(), key=transfer_id.encode())
    finally:
        await producer.stop()


async def _two_provinces(start_app, dedupe_stub, token, isolation, student=STUDENT) -> tuple[Any, Any, dict]:
    """Fujian's and Hunan's registries on one broker (Hunan's topics under its own prefix), and a Hunan pupil."""
    hunan = f"{isolation.topic_prefix}hn."
    admin = AIOKafkaAdminClient(bootstrap_servers=isolation.servers.kafka)
    await admin.start()
    await admin.create_topics([NewTopic(hunan + name, 1, 1) for name in all_topic_names()])
    await admin.close()
    fujian_registry = await start_app(create_app, RegistrySettings)
    hunan_registry = await start_app(
        create_app, RegistrySettings, province="43", topic_prefix=hunan, mongodb_database=f"{isolation.database}_hn"
    )
    async with dedupe_stub(prefix=hunan):
        created = await hunan_registry.post("/v1/students", json=student, headers=_auth(token, "school", HUNAN_SCHOOL))
    assert created.status_code == 201, created.text
    return fujian_registry, hunan_registry, created.json()


async def test_r34_hunan_transfers_the_student_out_and_fujian_starts_the_record_from_the_status_file(
    start_app, dedupe_stub, token, isolation, wait_for, mirror
):
    bootstrap, hunan = isolation.servers.kafka, f"{isolation.topic_prefix}hn."
    fujian_registry, hunan_registry, hunan_view = await _two_provinces(start_app, dedupe_stub, token, isolation)
    student_id, transfer_id = hunan_view["student_id"], f"tr_{uuid.uuid4().hex[:12]}"

    async def fujian_view() -> dict | None:
        answer = await fujian_registry.get(f"/v1/students/{student_id}", headers=_auth(token, "county", "350602"))
        return answer.json() if answer.status_code == 200 else None

    async with mirror((hunan + INTERPROVINCE_FILE.name, isolation.topic(INTERPROVINCE_FILE.name), "35")):
        # Fujian owns the case and hears of its completion first: it waits for the file rather than failing.
        await _case_changed(bootstrap, isolation.topic(TRANSFER_CASE.name), student_id, "35", transfer_id)
        await asyncio.sleep(1.0)
        assert await fujian_view() is None
        # Hunan hears of it through its transfer service's mirror of the case.
        await _case_changed(bootstrap, hunan + TRANSFER_CASE.name, student_id, "35", transfer_id)
        arrived = await wait_for(fujian_view)

    assert (arrived["state"], arrived["school_code"]) == ("enrolled", FUJIAN_SCHOOL)
    assert arrived["status_number_masked"] == hunan_view["status_number_masked"]

    async def numbered() -> dict | None:
        found = await fujian_view()
        return found if found and (found.get("supplementary_numbers") or {}).get("primary") else None

    # R07: a student transferring into the province for the first time gets its supplementary number here.
    assert (await wait_for(numbered))["supplementary_numbers"]["primary"].startswith("1")

    async def hunan_left() -> dict | None:
        answer = await hunan_registry.get(f"/v1/students/{student_id}", headers=_auth(token, "county", "430102"))
        return answer.json() if answer.json().get("state") == "transferred" else None

    left = await wait_for(hunan_left)
    assert left["school_code"] == HUNAN_SCHOOL  # the record stays in Hunan as history (R12)
    history = await hunan_registry.get(f"/v1/students/{student_id}/history", headers=_auth(token, "county", "430102"))
    assert any(e.get("type") == "transferred_out" for e in history.json()["history"]), history.text

    # The status feed (docs/subscribers.md, "Reading several provinces"): each province counts the student's changes
    # itself. Hunan's feed ends with the departure; Fujian's starts at 1 with the arrival, under the same student_id.
    def changes(messages: list[dict]) -> list[dict]:
        return [m for m in messages if m["payload"]["student_id"] == student_id]

    def ends_with(change: str) -> Any:
        return lambda messages: any(m["payload"].get("change") == change for m in changes(messages))

    topic = STUDENT_STATUS.name
    there = changes(await published(bootstrap, hunan + topic, ends_with("transferred_out")))
    here = changes(await published(bootstrap, isolation.topic(topic), ends_with("transferred_in")))
    assert [m["payload"]["change"] for m in there] == ["enrolled", "transferred_out"]
    assert [m["payload"]["sequence"] for m in there] == [1, 2]
    assert {m["province"] for m in there} == {"43"}
    (arrival,) = [m for m in here if m["payload"]["change"] == "transferred_in"]
    assert (arrival["province"], arrival["payload"]["sequence"], arrival["payload"].get("before")) == ("35", 1, None)


async def test_r23_r34_an_offline_acceptance_starts_the_record_from_the_paper_form_and_the_file_prevails_later(
    start_app, dedupe_stub, token, isolation, wait_for, mirror
):
    bootstrap, hunan = isolation.servers.kafka, f"{isolation.topic_prefix}hn."
    fujian_registry, _, enrolled = await _two_provinces(start_app, dedupe_stub, token, isolation)
    student_id, transfer_id = enrolled["student_id"], f"tr_{uuid.uuid4().hex[:12]}"
    county = _auth(token, "county", "350602")

    async def fujian_record() -> dict | None:
        answer = await fujian_registry.get(f"/v1/students/{student_id}", headers=county)
        return answer.json() if answer.status_code == 200 else None

    # The paper form, copied by hand: a mistyped given name (含 for 涵).
    paper = PaperRecord(
        status_number="L" + STUDENT["id_number"], name="刘子含", id_number=STUDENT["id_number"], gender="male",
        birth_date=STUDENT["birth_date"], segment="primary", grade=3, admitted_on="2026-09-01",
    )  # fmt: skip
    fujian_cases = isolation.topic(TRANSFER_CASE.name)
    await _case_changed(bootstrap, fujian_cases, student_id, "35", transfer_id, CaseOutcome.OFFLINE_ACCEPTED, paper)
    offline = await wait_for(fujian_record)
    assert (offline["state"], offline["school_code"]) == ("enrolled", FUJIAN_SCHOOL)  # at once, status continuous

    async with mirror((hunan + INTERPROVINCE_FILE.name, isolation.topic(INTERPROVINCE_FILE.name), "35")):
        await _case_changed(bootstrap, fujian_cases, student_id, "35", transfer_id)
        await _case_changed(bootstrap, hunan + TRANSFER_CASE.name, student_id, "35", transfer_id)

        async def reconciled() -> list | None:
            answer = await fujian_registry.get(f"/v1/students/{student_id}/history", headers=county)
            found = [e for e in answer.json()["history"] if e["type"] == "arrival_reconciled"]
            return found or None

        (event,) = await wait_for(reconciled)
    differences = {d["field"]: (d["paper"], d["system"]) for d in event["differences"]}
    assert differences["name"] == ("刘子含", "刘子涵")  # R23: the system record prevails
    assert event["arrival"]["identity"]["name"] == "刘子涵"
    history = (await fujian_registry.get(f"/v1/students/{student_id}/history", headers=county)).json()["history"]
    assert [e["type"] for e in history].count("transferred_in") == 1  # one move, offline then reconciled


async def test_r07_r34_a_hunan_graduate_s_progression_ends_the_record_there_and_starts_it_here_in_junior_high(
    start_app, dedupe_stub, token, isolation, wait_for, mirror
):
    """Defect found by h22: the graduating province refused to record a graduate leaving ('R28: graduated'), so no
    file was sent and the receiving province never had the student. Now Hunan records the graduate's progression as
    transferred out and sends the file with the grade entered; Fujian starts the record at its junior school in
    junior high, grade 7, and gives the junior supplementary number (R07: a first arrival in the province gets one)."""
    bootstrap, hunan = isolation.servers.kafka, f"{isolation.topic_prefix}hn."
    graduate = {**STUDENT, "grade": 6}
    fujian_registry, hunan_registry, hunan_view = await _two_provinces(
        start_app, dedupe_stub, token, isolation, graduate
    )
    student_id, transfer_id = hunan_view["student_id"], f"tr_{uuid.uuid4().hex[:12]}"
    hunan_school = _auth(token, "school", HUNAN_SCHOOL)
    diploma = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2026}}  # the school's digits
    done = await hunan_registry.post(f"/v1/students/{student_id}/changes", json=diploma, headers=hunan_school)
    assert done.status_code == 200 and done.json()["state"] == "graduated", done.text
    progression = {"kind": "progression", "target_grade": 7}

    async def fujian_view() -> dict | None:
        answer = await fujian_registry.get(f"/v1/students/{student_id}", headers=_auth(token, "county", "350602"))
        found = answer.json() if answer.status_code == 200 else {}
        return found if "junior" in found.get("supplementary_numbers", {}) else None

    async with mirror((hunan + INTERPROVINCE_FILE.name, isolation.topic(INTERPROVINCE_FILE.name), "35")):
        await _case_changed(
            bootstrap, isolation.topic(TRANSFER_CASE.name), student_id, "35", transfer_id, **progression
        )
        await _case_changed(bootstrap, hunan + TRANSFER_CASE.name, student_id, "35", transfer_id, **progression)
        arrived = await wait_for(fujian_view)

    assert (arrived["state"], arrived["school_code"], arrived["segment"], arrived["grade"]) == (
        "enrolled", FUJIAN_SCHOOL, "junior", 7
    )  # fmt: skip
    assert arrived["status_number_masked"] == hunan_view["status_number_masked"]  # one person, one number (R01)
    assert arrived["supplementary_numbers"]["junior"][:1] == "2"  # the junior layout of Fujian (R07)
    hunan_county = _auth(token, "county", "430102")

    async def hunan_record(state: str) -> dict | None:
        found = (await hunan_registry.get(f"/v1/students/{student_id}", headers=hunan_county)).json()
        return found if found.get("state") == state else None

    left = await wait_for(lambda: hunan_record("transferred"))
    assert (left["school_code"], left["segment"]) == (HUNAN_SCHOOL, "primary")

    # R33: the county status office rolls the mistaken progression back; both provinces hear of it (twice each).
    for topic in (isolation.topic(TRANSFER_CASE.name), hunan + TRANSFER_CASE.name) * 2:
        await _case_changed(bootstrap, topic, student_id, "35", transfer_id, CaseOutcome.ROLLED_BACK, **progression)
    restored = await wait_for(lambda: hunan_record("graduated"))
    assert (restored["school_code"], restored["segment"], restored["grade"]) == (HUNAN_SCHOOL, "primary", 6)

    async def fujian_ended() -> dict | None:
        answer = await fujian_registry.get(f"/v1/students/{student_id}", headers=_auth(token, "county", "350602"))
        return answer.json() if answer.json().get("state") == "transferred" else None

    ended = await wait_for(fujian_ended)
    assert ended["school_code"] == FUJIAN_SCHOOL  # the copy started here stays as history (R12)
    for registry, county in ((hunan_registry, hunan_county), (fujian_registry, _auth(token, "county", "350602"))):
        history = (await registry.get(f"/v1/students/{student_id}/history", headers=county)).json()["history"]
        kinds = [e["type"] for e in history if (e.get("transfer_id") or "").endswith(":rollback") or
                 e["type"] == "progression_rolled_back"]  # fmt: skip
        assert len(kinds) == 1, kinds  # redelivered: recorded once
