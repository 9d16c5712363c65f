"""The school register the batch reads start from (R54, R51): a record is found at every school it has been at,
and a database without the register rebuilds it from the events at start-up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from http_fixtures import pupil

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_contracts.topics import TRANSFER_CASE
from xueji_registry.app import create_app
from xueji_registry.domain.periods import school_year_of
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
LEFT, JOINED = "3506020301", "3506030301"  # another county: Xiangcheng -> Longwen
PUPIL = pupil(LEFT, "蔡一鸣", "2017-03-09", 3, gender="male")


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def _transferred(bootstrap: str, topic: str, student_id: str) -> None:
    payload = TransferCaseChanged(
        transfer_id=f"tr_{uuid.uuid4().hex[:10]}", outcome=CaseOutcome.COMPLETED, student_id=student_id,
        sending_school=LEFT, receiving_school=JOINED, at=datetime.now(UTC),
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        message = envelop(payload, producer="transfer", province="35", occurred_at=datetime.now(UTC))
        await producer.send_and_wait(topic, message.model_dump_json().encode(), key=student_id.encode())
    finally:
        await producer.stop()


async def test_r54_a_pupil_who_moved_to_another_county_is_a_decrease_at_the_school_left(
    start_app, dedupe_stub, token, isolation, wait_for
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        created = await registry.post("/v1/students", json=PUPIL, headers=_as(token, "school", LEFT))
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    await _transferred(isolation.servers.kafka, isolation.topic(TRANSFER_CASE.name), student)

    async def moved() -> bool:
        answer = await registry.get(f"/v1/students/{student}", headers=_as(token, "province", "350000"))
        return answer.json()["school_code"] == JOINED

    await wait_for(moved)
    year = school_year_of(local_date(datetime.now(UTC)))
    left = (await registry.get(f"/v1/rosters/annual/{LEFT}/{year}", headers=_as(token, "school", LEFT))).json()
    assert [(x["student_id"], x["change"]) for x in left["decreases"]] == [(student, "transferred_away")]
    assert left["counts"]["on_register"] == 0
    joined = (await registry.get(f"/v1/rosters/annual/{JOINED}/{year}", headers=_as(token, "school", JOINED))).json()
    assert [(x["student_id"], x["change"]) for x in joined["increases"]] == [(student, "transferred_in")]
    audit = await registry.get("/v1/audit", headers=_as(token, "county", JOINED[:6]))
    assert audit.status_code == 200 and audit.json()["records_audited"] == 1, audit.text  # R51: where it is now

    register = registry.app.state.registry.register
    await register.collection.drop()  # a database from before the register existed
    assert await register.rebuild_if_empty() >= 1
    assert await register.rebuild_if_empty() == 0  # only when empty
    again = (await registry.get(f"/v1/rosters/annual/{LEFT}/{year}", headers=_as(token, "school", LEFT))).json()
    assert again["decreases"] == left["decreases"]
