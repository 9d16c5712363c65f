"""Component test: a deadline met stays met on the dashboard and in the inbox when its warning or breach comes after
it (FastStream's in-memory broker, real store; R02/R54 compliance and R14 review deadlines).

The registry checks that a deadline is still open, then records its breach on the deadline's own stream; a meeting
recorded on the record's stream in between publishes `met` first, and the breach after it (two streams, no
transaction). The order on the topic is then met, overdue, and the deadline is done all the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import notify_events as ev
from faststream.kafka import TestKafkaBroker

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe_review import ReviewCaseDeadline, ReviewCaseDecided, ReviewCaseOpened
from xueji_contracts.topics import DEDUPE_REVIEW, REGISTRY_COMPLIANCE
from xueji_notify.app import build_runtime
from xueji_notify.settings import NotifySettings

NOW = datetime.now(UTC)


def _runtime(isolation: Any, name: str) -> Any:
    return build_runtime(NotifySettings(**isolation.settings_env(), mongodb_database=f"{isolation.database}_{name}"))


async def test_r54_a_breach_published_after_the_deadline_was_met_leaves_it_met_and_tells_no_bureau(isolation):
    runtime = _runtime(isolation, "met_last")
    topic = runtime.settings.topic(REGISTRY_COMPLIANCE.name)
    flagged = ev.compliance("roster-1", "overdue", flagged_to=ev.COUNTY)
    async with TestKafkaBroker(runtime.broker) as broker:
        for message in (ev.compliance("roster-1", "opened"), ev.compliance("roster-1", "met"), flagged):
            await broker.publish(message.model_dump(mode="json"), topic)
        notify = runtime.broker.context.get("notify")
        [row] = await notify.dashboard.deadlines_under(ev.SCHOOL[:4], limit=10)
        assert row["state"] == "met"
        assert [n for n in await notify.inbox.query(ev.COUNTY, limit=10) if n["jurisdiction"] == ev.COUNTY] == []
        # Opened again under the same id (a recurring deadline): its breach counts again.
        for message in (
            ev.compliance("roster-1", "opened"),
            ev.compliance("roster-1", "overdue", flagged_to=ev.COUNTY),
        ):
            await broker.publish(message.model_dump(mode="json"), topic)
        [row] = await notify.dashboard.deadlines_under(ev.SCHOOL[:4], limit=10)
        assert row["state"] == "overdue"
        bureau = [n for n in await notify.inbox.query(ev.COUNTY, limit=10) if n["jurisdiction"] == ev.COUNTY]
        assert [n["details"]["state"] for n in bureau] == ["overdue"]
    await runtime.mongo.close()


async def test_r14_a_review_deadline_after_the_decision_leaves_the_review_met(isolation):
    runtime = _runtime(isolation, "review_met_last")
    topic = runtime.settings.topic(DEDUPE_REVIEW.name)
    due = NOW + timedelta(days=14)
    case = {"case_id": "rc-7", "county_code": "350602", "school_code": "3506020001", "student_id": "stu_new"}
    messages = [
        ReviewCaseOpened(**case, candidate_student_id="stu_old", score=0.9, reason_zh="姓名同音",
                         reason_en="homophone name", opened_at=NOW, due_at=due, warn_at=due - timedelta(days=2)),
        ReviewCaseDecided(**case, decision="different_person", decided_by="c-1", decided_at=NOW),
        ReviewCaseDeadline(**case, state="overdue", due_at=due, escalated_to="350600"),
    ]  # fmt: skip
    async with TestKafkaBroker(runtime.broker) as broker:
        for payload in messages:
            message = envelop(payload, producer="dedupe", province="35", occurred_at=NOW)
            await broker.publish(message.model_dump(mode="json"), topic)
        notify = runtime.broker.context.get("notify")
        [row] = await notify.dashboard.deadlines_under("3506", limit=10)
        assert row["state"] == "met"
        assert [n for n in await notify.inbox.query("3506", limit=20) if n["jurisdiction"] == "350600"] == []
    await runtime.mongo.close()
