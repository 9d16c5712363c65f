"""Component test: dedupe review cases on FastStream's in-memory broker, real store (R01, R14, R50)."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.kafka import TestKafkaBroker

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewCaseOpened
from xueji_contracts.topics import DEDUPE_REVIEW, dlq
from xueji_notify.app import build_runtime
from xueji_notify.settings import NotifySettings

NOW = datetime.now(UTC)


def _message(payload) -> dict:
    return envelop(payload, producer="dedupe", province="35", occurred_at=NOW).model_dump(mode="json")


async def test_r14_review_case_is_a_county_task_and_its_outcome_reaches_the_school(isolation):
    settings = NotifySettings(**isolation.settings_env(), mongodb_database=f"{isolation.database}_review")
    runtime = build_runtime(settings)
    topic = settings.topic(DEDUPE_REVIEW.name)
    letters: list[dict] = []

    @runtime.broker.subscriber(dlq(topic))
    async def collect(letter: dict) -> None:
        letters.append(letter)

    opened = _message(ReviewCaseOpened(
        case_id="rc-1", county_code="350602", school_code="3506020001", student_id="stu_new",
        candidate_student_id="stu_old", score=0.82, reason_zh="姓名同音、出生日期相同", reason_en="homophone name, same birth date",
        opened_at=NOW))  # fmt: skip
    decided = _message(ReviewCaseDecided(case_id="rc-1", county_code="350602", school_code="3506020001",
                                         student_id="stu_new", decision="different_person", decided_by="c-1", decided_at=NOW))  # fmt: skip
    async with TestKafkaBroker(runtime.broker) as broker:
        for message in (opened, opened, decided):  # the opening redelivered
            await broker.publish(message, topic)
        await broker.publish({**opened, "type": "CheckRequested"}, topic)  # not notify's: passed over
        await broker.publish({**opened, "payload": {"case_id": "rc-2"}}, topic)  # broken: dead-lettered

    inbox = runtime.broker.context.get("notify").inbox
    county = await inbox.query("350602", limit=10)
    assert sorted((n["jurisdiction"], n["severity"]) for n in county) == [("350602", "action"), ("3506020001", "info")]
    task = next(n for n in county if n["jurisdiction"] == "350602")
    assert "疑似重复" in task["title_zh"] and "82%" in task["title_en"]
    assert await inbox.query("350102", limit=10) == []
    assert len(letters) == 1 and letters[0]["error_type"] == "ValidationError"
    await runtime.mongo.close()


async def test_r14_r22_a_review_deadline_warns_the_county_escalates_to_the_city_and_shows_on_the_dashboard(isolation):
    from datetime import timedelta

    from xueji_contracts.messages.dedupe_review import ReviewCaseDeadline
    from xueji_notify.domain.compliance_board import compliance_board

    settings = NotifySettings(**isolation.settings_env(), mongodb_database=f"{isolation.database}_review_sla")
    runtime = build_runtime(settings)
    topic = settings.topic(DEDUPE_REVIEW.name)
    due = NOW + timedelta(days=14)
    case = {"case_id": "rc-9", "county_code": "350602", "school_code": "3506020001", "student_id": "stu_new"}
    opened = _message(ReviewCaseOpened(
        **case, candidate_student_id="stu_old", score=0.91, reason_zh="姓名同音", reason_en="homophone name",
        opened_at=NOW, due_at=due, warn_at=due - timedelta(days=2)))  # fmt: skip
    soon = _message(ReviewCaseDeadline(**case, state="due_soon", due_at=due))
    overdue = _message(ReviewCaseDeadline(**case, state="overdue", due_at=due, escalated_to="350600"))
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(opened, topic)
        dashboard = runtime.broker.context.get("notify").dashboard
        [row] = await dashboard.deadlines_under("3506", limit=10)
        assert (row["kind"], row["state"], row["rule"]) == ("dedupe_review", "opened", "R14")
        await broker.publish(soon, topic)
        await broker.publish(overdue, topic)

    inbox = runtime.broker.context.get("notify").inbox
    county = [n for n in await inbox.query("350602", limit=20) if n["jurisdiction"] == "350602"]
    assert sorted(n["severity"] for n in county) == ["action", "urgent", "warning"]
    assert all(n["due_at"] is not None for n in county)
    city = [n for n in await inbox.query("3506", limit=20) if n["jurisdiction"] == "350600"]
    assert [(n["severity"], n["details"]["state"]) for n in city] == [("urgent", "overdue")]
    assert "逾期" in city[0]["title_zh"] and "overdue" in city[0]["title_en"]
    board = compliance_board(await dashboard.deadlines_under("3506", limit=10), NOW)
    [kind] = board["kinds"]
    assert (kind["kind"], kind["name_zh"], kind["overdue"]) == ("dedupe_review", "疑似重复审核", 1)
    assert board["overdue"][0]["flagged_to"] == "350600"
    await runtime.mongo.close()
