"""SLA timers on the real store and broker (R22, R31): warning, escalation up the chain, recomputed deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from kafka_messages import published
from transfer_driver import RECEIVING, application, day, of_type, start

from xueji_contracts.calendar import WorkingDayCalendar

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))


def _timers(detail: dict) -> dict[str, datetime]:
    return {t["kind"]: datetime.fromisoformat(t["due_at"]) for t in detail["armed_timers"]}


def _past_the_notices(calendar: WorkingDayCalendar) -> tuple[int, date, datetime]:
    """The first year `calendar` has no holiday notice for, the first weekday of its January (the test notice's
    holiday) and a morning in the December before, whose 10 working days run past that day. Taken from the
    service's calendar, not written in: regenerated with next year's State Council notice, the packaged data
    covers one more year, and these tests move on to the year after it."""
    year = max(calendar.notice_years) + 1
    holiday = next(d for d in (date(year, 1, n) for n in range(1, 8)) if d.weekday() < 5)
    return year, holiday, day(date(year - 1, 12, 24))


def _stage_due(calendar: WorkingDayCalendar, opened: datetime) -> datetime:
    """24:00 of the 10th working day after the day the receiving school's stage opened (R22), on `calendar`."""
    return day(calendar.add_working_days(opened.date(), 10) + timedelta(days=1), 0)


async def test_r22_breach_escalates_to_the_county_then_the_city_and_the_stage_stays_open(start_app, token, isolation):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    timers = _timers(await t.detail(tid))
    assert timers["breach"] == day(date(2025, 3, 25), 0)  # 24:00 of the 10th working day after Monday 10 March
    assert timers["warning"] == day(date(2025, 3, 21), 0)  # 2 working days before

    assert await t.advance_to(timers["warning"] + timedelta(hours=1)) == 1
    (breach,) = [tm for tm in await t.app.state.timers.store.armed_for(tid) if tm.kind == "breach"]
    assert await t.advance_to(timers["breach"] + timedelta(hours=1)) == 1
    assert await t.app.state.timers.tick(timers["breach"] + timedelta(hours=2)) == 0, "fired once"
    case = (await t.detail(tid))["case"]
    stage = case["stages"]["receiving_school"]
    assert (stage["status"], stage["escalation_count"], stage["escalated_to"]) == ("open", 1, "350602")
    assert [i["action"] for i in await t.inbox("350602")] == ["chase_stage"]
    assert [i["action"] for i in await t.inbox(RECEIVING)] == ["decide_stage"]
    # A replica that fired it but lost its `fired` mark fires again: the commit id is the timer's, nothing changes.
    await t.app.state.transfer.fire(tid, breach.timer_id, timers["breach"] + timedelta(hours=3))
    assert (await t.detail(tid))["case"]["version"] == case["version"]

    next_level = datetime.fromisoformat(stage["escalation_deadline"]["due_at"])
    assert await t.advance_to(next_level + timedelta(hours=1)) == 1
    sla = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.sla.v1"),
        lambda ms: len(of_type(ms, "StageBreached", tid)) == 2,
    )
    (warning,) = of_type(sla, "StageWarning", tid)
    assert (warning["jurisdiction"], warning["working_days_left"]) == (RECEIVING, 2)
    breaches = of_type(sla, "StageBreached", tid)
    assert [(b["escalated_to_level"], b["escalated_to"], b["escalation_count"]) for b in breaches] == [
        ("county", "350602", 1),
        ("city", "350600", 2),
    ]
    assert [i["action"] for i in await t.inbox("350600")] == ["chase_stage"]
    assert await t.inbox("350602") == []


async def test_r31_stage_deadline_over_national_day_counts_the_make_up_saturday(start_app, token, isolation):
    t = await start(start_app, token, day(date(2025, 9, 29)))
    term = {"start": "2025-09-01", "end": "2026-01-23", "semester": 1}
    tid = await t.apply(application(term=term))
    stages = await published(
        isolation.servers.kafka, isolation.topic("transfer.stage.v1"), lambda ms: of_type(ms, "StageOpened", tid)
    )
    (opened,) = of_type(stages, "StageOpened", tid)
    # Sep 30, Oct 9, 10, Saturday 11 (make-up), 13-17, 20: the 10th working day is Monday 20 October.
    assert datetime.fromisoformat(opened["deadline"]["due_at"]) == day(date(2025, 10, 21), 0)
    assert opened["deadline"]["provisional"] is False


async def test_r31_loading_notice_recomputes_open_deadlines(start_app, token, isolation):
    t = await start(start_app, token, MONDAY)
    calendar = t.app.state.transfer.calendars.current
    year, holiday, opened = _past_the_notices(calendar)
    t.clock.now = opened
    term = {"start": f"{year - 1}-09-01", "end": f"{year}-01-22", "semester": 1}
    tid = await t.apply(application(term=term))
    before = (await t.detail(tid))["open_stage"]
    assert before["provisional"] is True  # no notice for `year` loaded: weekdays only, `holiday` counted as working
    assert calendar.is_working_day(holiday)
    assert datetime.fromisoformat(before["due_at"]) == _stage_due(calendar, opened)

    notice = {"year": year, "rest_days": [str(holiday)], "names": {str(holiday): "元旦"}, "source": "test notice"}
    refused = await t.call("POST", "/v1/admin/calendar/notices", ("county", "350602"), notice)
    assert refused.status_code == 403
    loaded = await t.ok("POST", "/v1/admin/calendar/notices", ("province", "350000"), notice)
    noticed = calendar.with_notice(year, [holiday], [])
    assert loaded["recomputed_cases"] == [tid] and year in loaded["notice_years"]
    assert loaded["calendar_version"] == noticed.version

    after = (await t.detail(tid))["open_stage"]
    assert after["provisional"] is False
    due = _stage_due(noticed, opened)  # `holiday` is one now: a working day later
    assert due.date() == calendar.add_working_days(opened.date(), 11) + timedelta(days=1)
    assert datetime.fromisoformat(after["due_at"]) == due
    timers = await t.app.state.timers.store.armed_for(tid)
    assert {tm.due_at for tm in timers if tm.kind == "breach"} == {due}
    stages = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.stage.v1"),
        lambda ms: of_type(ms, "StageDeadlineChanged", tid),
    )
    (changed,) = of_type(stages, "StageDeadlineChanged", tid)
    assert changed["previous"]["provisional"] is True and changed["deadline"]["provisional"] is False
    again = await t.ok("POST", "/v1/admin/calendar/notices", ("province", "350000"), notice)
    assert again["recomputed_cases"] == [], "loading the same notice twice moves nothing"


async def test_r22_an_application_received_12_working_days_ago_is_warned_and_breached_at_once(
    start_app, token, isolation
):
    t = await start(start_app, token, day(date(2025, 3, 26)))  # 12 working days after Monday 10 March
    too_old = await t.call(
        "POST",
        "/v1/transfers",
        ("school", RECEIVING),
        {"application": application(), "applied_at": "2025-01-02T09:00:00+08:00"},
    )
    assert too_old.status_code == 422 and too_old.json()["detail"][0]["field"] == "applied_at"
    tid = await t.apply(applied_at=MONDAY.isoformat())
    case = await t.detail(tid)
    assert datetime.fromisoformat(case["open_stage"]["opened_at"]) == MONDAY  # its stage ran from the day received
    assert (case["open_stage"]["escalation_count"], case["open_stage"]["escalated_to"]) == (1, "350602")
    sla = await published(
        isolation.servers.kafka, isolation.topic("transfer.sla.v1"), lambda ms: of_type(ms, "StageBreached", tid)
    )
    assert [m["type"] for m in sla] == ["StageWarning", "StageBreached"]


async def test_r22_a_breach_fired_while_its_due_warning_is_still_armed_publishes_the_warning_first(
    start_app, token, isolation
):
    """A catch-up after an outage finds a stage's warning and breach both due; the scheduler fires the current
    minute first and a minute's timers at once, so it may come to the breach first. The warning still fires, first."""
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    timers = {tm.kind: tm for tm in await t.app.state.timers.store.armed_for(tid)}
    late = timers["breach"].due_at + timedelta(seconds=30)
    t.clock.now = late
    await t.app.state.transfer.fire(tid, timers["breach"].timer_id, late)
    await t.app.state.transfer.fire(tid, timers["warning"].timer_id, late)  # the scheduler's later look: no change
    sla = await published(
        isolation.servers.kafka, isolation.topic("transfer.sla.v1"), lambda ms: of_type(ms, "StageBreached", tid)
    )
    assert [m["type"] for m in sla if m["payload"]["transfer_id"] == tid] == ["StageWarning", "StageBreached"]
    stage = (await t.detail(tid))["case"]["stages"]["receiving_school"]
    assert (stage["warned"], stage["escalation_count"]) == (True, 1)


async def test_r31_a_notice_loaded_elsewhere_recomputes_open_deadlines_here(start_app, token, isolation):
    """A notice that came by another replica's route, or by the policy or calendar file of a new deployment (the way
    the Fujian policy tells operators to add 2027's), recomputes open deadlines too: only the admin route did."""
    from xueji_transfer.calendar_source import CalendarNotice, CalendarSource

    t = await start(start_app, token, MONDAY)
    service = t.app.state.transfer
    calendar = service.calendars.current
    year, holiday, opened = _past_the_notices(calendar)
    t.clock.now = opened
    term = {"start": f"{year - 1}-09-01", "end": f"{year}-01-22", "semester": 1}
    tid = await t.apply(application(term=term))
    await service.recompute_after_calendar_change()  # at start: nothing new
    before = datetime.fromisoformat((await t.detail(tid))["open_stage"]["due_at"])
    assert before == _stage_due(calendar, opened)

    elsewhere = CalendarSource(service.runtime.db, service.settings)
    await elsewhere.load_notice(CalendarNotice(year=year, rest_days=(holiday,)))
    await service.calendars.refresh()  # this replica's next refresh
    await service.recompute_after_calendar_change()
    after = (await t.detail(tid))["open_stage"]
    due = _stage_due(calendar.with_notice(year, [holiday], []), opened)
    assert due > before  # `holiday` is one now
    assert (after["provisional"], datetime.fromisoformat(after["due_at"])) == (False, due)
    timers = await t.app.state.timers.store.armed_for(tid)
    assert {tm.due_at for tm in timers if tm.kind == "breach"} == {due}
