"""Notify's pure rules: who hears of what, stage states, working days left and the node counts."""

from __future__ import annotations

from datetime import date, timedelta

import notify_events as ev
import pytest

from xueji_contracts.auth import OperatorClaims
from xueji_notify.domain import counts, projection, stages
from xueji_notify.domain.calendar import WeekdaysOnly, add_working_days, due_day, working_days_left
from xueji_notify.domain.jurisdiction import ancestors, node_of, parent_of
from xueji_notify.domain.notification import Kind, Severity
from xueji_notify.domain.registry_notes import compliance_changed

CAL = WeekdaysOnly()


def _doc(*changes: projection.Change) -> dict:
    doc: dict = {}
    for change in changes:
        if change.insert_open and not doc:
            doc["open"] = True
        doc |= change.fields
    return doc


def test_r22_breach_tells_the_late_school_and_the_county_it_escalated_to():
    tid = ev.transfer_id()
    opened = ev.opened(tid)
    change = projection.sla_message(ev.breached(tid, opened.payload.deadline.due_at))
    assert [(n.kind, n.jurisdiction, n.severity) for n in change.notes] == [
        (Kind.STAGE_BREACHED, ev.SCHOOL, Severity.URGENT),
        (Kind.STAGE_ESCALATED, ev.COUNTY, Severity.URGENT),
    ]
    assert change.dirty == [ev.SCHOOL, ev.COUNTY]
    assert "已超期" in change.notes[0].title_zh and "Overdue" in change.notes[0].title_en
    assert len({n.notification_id for n in change.notes}) == 2


def test_r22_breach_counts_only_for_the_deadline_it_was_raised_against():
    tid = ev.transfer_id()
    opened = ev.opened(tid)
    breach = projection.sla_message(ev.breached(tid, opened.payload.deadline.due_at))
    doc = _doc(projection.stage_message(opened, None), breach)
    assert stages.is_breached(doc)
    # Returned for materials and reopened with a new deadline: the old breach no longer counts.
    reopened = ev.opened(tid, due=date.today() + timedelta(days=30))
    doc |= projection.stage_message(reopened, doc).fields
    assert not stages.is_breached(doc) and stages.is_open(doc)
    # Closed: nothing counts any more, whatever arrives late from the SLA topic.
    doc |= projection.stage_message(ev.closed(tid), doc).fields
    assert not stages.is_open(doc) and not stages.is_breached(doc)


def test_r22_breach_seen_before_its_stage_opened_still_counts():
    tid = ev.transfer_id()
    opened = ev.opened(tid)
    doc = _doc(projection.sla_message(ev.breached(tid, opened.payload.deadline.due_at)))
    assert stages.is_breached(doc)
    doc |= projection.stage_message(opened, doc).fields
    assert stages.is_breached(doc)


def test_r22_decision_is_told_to_the_receiving_school():
    tid = ev.transfer_id()
    known = projection.stage_message(ev.opened(tid, ev.COUNTY, stage="receiving_bureau", step=4), None).fields
    change = projection.stage_message(ev.closed(tid, ev.COUNTY, stage="receiving_bureau", decision="reject",
                                                reason="材料不全"), known)  # fmt: skip
    [note] = change.notes
    assert note.jurisdiction == ev.SCHOOL and note.severity is Severity.ACTION
    assert "不通过" in note.title_zh and "材料不全" in note.title_zh


def test_envelope_type_must_name_its_payload():
    message = ev.opened(ev.transfer_id()).model_copy(update={"type": "StageClosed"})
    with pytest.raises(ValueError, match="type"):
        projection.stage_message(message, None)


def test_r31_working_days_left_skip_weekends_and_are_zero_on_the_due_day():
    friday = date(2026, 3, 6)
    assert working_days_left(CAL, friday, friday) == 0
    assert working_days_left(CAL, friday, date(2026, 3, 9)) == 1  # Monday
    assert working_days_left(CAL, date(2026, 3, 10), friday) == -2  # Mon, Tue since
    assert add_working_days(CAL, friday, 2) == date(2026, 3, 10)
    assert due_day(ev.end_of_day(friday)) == friday


def test_r23_offline_case_stays_pending_until_reconciled():
    tid = ev.transfer_id()
    case_doc = projection.case_message(ev.case(tid, "offline_opened")).fields
    assert counts.own_counts([], [], [case_doc], [], date.today()).offline_pending == 1
    case_doc |= projection.case_message(ev.case(tid, "reconciled")).fields
    after = counts.own_counts([], [], [case_doc], [], date.today())
    assert (after.offline_pending, after.reconciled) == (0, 1)
    assert projection.case_message(ev.case(tid, "completed")).fields == {}


def test_r22_counts_add_up_the_tree_and_due_within_uses_working_days():
    today = date(2026, 3, 6)  # a Friday
    near = ev.opened(ev.transfer_id(), due=date(2026, 3, 10)).payload  # 2 working days on
    far = ev.opened(ev.transfer_id(), due=date(2026, 3, 20)).payload
    late = ev.opened(ev.transfer_id(), due=date(2026, 3, 5)).payload
    docs = [stages.opened(near), stages.opened(far), stages.opened(late) | stages.breached(
        ev.breached(late.transfer_id, late.deadline.due_at).payload, late.deadline.opened_at)]  # fmt: skip
    school = counts.own_counts(docs, [], [], [], today)
    county = counts.own_counts([], [docs[2]], [], [], today) + school
    assert (county.open, county.breached, county.escalated) == (3, 1, 1)
    assert county.escalated_levels == {"county": 1}
    assert counts.due_within(county, CAL, today, 2) == 1
    assert counts.due_within(county, CAL, today, 10) == 2
    assert counts.by_working_days_left(county, CAL, today)["overdue"] == 1


def test_r50_nodes_follow_the_claims_prefixes():
    assert node_of("350600") == "3506" and node_of("350000") == "35" and node_of(ev.SCHOOL) == ev.SCHOOL
    assert ancestors(ev.SCHOOL) == ["", "35", "3506", "350602", ev.SCHOOL]
    assert parent_of("35") == "" and parent_of("") is None
    county = OperatorClaims(sub="c", role="county", code=ev.COUNTY)
    assert all(n.startswith(county.prefix) for n in ancestors(ev.SCHOOL)[3:])
    assert not ev.FAR_SCHOOL.startswith(county.prefix)


def test_r54_overdue_roster_is_flagged_to_the_county():
    notes = compliance_changed(ev.compliance("roster-2026", "overdue", flagged_to=ev.COUNTY))
    assert [(n.jurisdiction, n.severity) for n in notes] == [(ev.SCHOOL, Severity.URGENT), (ev.COUNTY, Severity.URGENT)]
    assert "R54" in notes[0].title_zh
    assert [n.jurisdiction for n in compliance_changed(ev.compliance("roster-2026", "opened"))] == [ev.SCHOOL]


def test_r45_the_county_bureau_is_told_to_hand_a_migrant_file_to_the_household_register_county():
    handover = ev.compliance(
        "stu-1:R45:file_handover:2026-10-28", "opened", kind="file_handover", rule="R45", jurisdiction=ev.COUNTY,
        receiving_county="360702",
    )  # fmt: skip
    [note] = compliance_changed(handover)
    assert (note.jurisdiction, note.severity) == (ev.COUNTY, Severity.ACTION)
    assert "360702" in note.title_zh and "360702" in note.title_en and "R45" in note.title_en
    assert note.details["receiving_county"] == "360702"


def test_r52_webhook_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac

    from xueji_notify.domain.webhooks import sign, verify

    body = b'{"kind":"stage_opened"}'
    expected = "v1=" + hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1_700_000_000, body) == expected
    assert verify("s3cret", 1_700_000_000, body, expected, now=1_700_000_100)
    assert not verify("s3cret", 1_700_000_000, body + b" ", expected, now=1_700_000_100)
    assert not verify("s3cret", 1_700_000_000, body, expected, now=1_700_001_000)  # replayed too late


def test_webhook_backoff_doubles_is_capped_and_jittered_within_half_a_step():
    from xueji_notify.domain.webhooks import backoff, endpoint_problem, retryable

    assert [backoff(n, 10, 3600, 0.0) for n in range(4)] == [5, 10, 20, 40]
    assert [backoff(n, 10, 3600, 0.999) for n in range(2)] == pytest.approx([9.995, 19.99])
    assert backoff(20, 10, 3600, 0.0) == 1800
    assert retryable(None) and retryable(503) and retryable(429) and not retryable(410) and not retryable(400)
    assert endpoint_problem("https://hooks.example.org/x", allow_http=False) is None
    assert endpoint_problem("http://hooks.example.org/x", allow_http=False) == "must be an https:// URL"
    assert "credentials" in endpoint_problem("https://u:p@hooks.example.org/x", allow_http=False)


def test_r22_a_410_ends_only_the_activation_its_attempt_was_made_under():
    from datetime import UTC, datetime

    from xueji_notify.domain.webhooks import ended_by_gone

    at = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    assert ended_by_gone({"active": True}, {"at": at, "activation": None})
    assert ended_by_gone({"active": True, "activation": "a1"}, {"at": at, "activation": "a1"})
    assert not ended_by_gone({"active": True, "activation": "a2"}, {"at": at, "activation": "a1"})  # activated since
    assert not ended_by_gone({"active": False, "activation": "a1"}, {"at": at, "activation": "a1"})  # stopped
    # Attempts recorded before they carried their activation: by the times.
    assert ended_by_gone({"active": True, "activated_at": at}, {"at": at})
    assert not ended_by_gone({"active": True, "activated_at": at.replace(minute=1)}, {"at": at})


def test_r31_working_days_left_agree_with_the_province_calendar_the_timers_use():
    from xueji_notify.calendar_source import province_calendar
    from xueji_notify.settings import NotifySettings

    fujian = province_calendar(NotifySettings(province="35"))
    assert fujian.warning_lead == 2 and fujian.version.startswith("cn-")
    cal = fujian.calendar
    national_day = (date(2026, 9, 30), date(2026, 10, 12))
    assert working_days_left(cal, *national_day) == cal.working_days_between(*national_day)
    assert working_days_left(cal, *national_day) < working_days_left(WeekdaysOnly(), *national_day)
    assert fujian.is_provisional(date(2099, 1, 5)) and not fujian.is_provisional(date(2026, 1, 5))


def test_r02_a_deadline_past_due_counts_as_overdue_before_the_registry_says_so() -> None:
    from datetime import UTC, datetime, timedelta

    from xueji_notify.domain.compliance_board import compliance_board

    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    deadlines = [
        {"_id": "a:R02", "kind": "status_file", "rule": "R02", "state": "opened", "due_at": now - timedelta(days=2)},
        {"_id": "b:R02", "kind": "status_file", "rule": "R02", "state": "due_soon", "due_at": now + timedelta(days=2)},
        {"_id": "c:R44", "kind": "death_cancellation", "rule": "R44", "state": "met", "due_at": now},
    ]
    board = compliance_board(deadlines, now)
    assert board["total"] == {"open": 2, "due_soon": 1, "overdue": 1}
    assert [(o["deadline_id"], o["overdue_days"]) for o in board["overdue"]] == [("a:R02", 2)]


def test_r54_an_overdue_roster_reads_as_a_roster_due_on_its_last_day_not_as_a_student_due_the_day_after() -> None:
    """The dashboard's overdue list: an R54 roster due at 00:00 on 2 October (China time, the end of 1 October) is a
    roster due on 1 October, as the transfer table shows its stages' last days; a status file is a student's."""
    from datetime import UTC, datetime

    from xueji_notify.domain.compliance_board import compliance_board

    now = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    end_of_october_first = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)  # 2 October 00:00 in China
    deadlines = [
        {"_id": "roster:3501020001:2026:R54", "kind": "annual_roster", "rule": "R54", "state": "overdue",
         "subject_id": "roster:3501020001:2026", "due_at": end_of_october_first},
        {"_id": "stu_a:R02", "kind": "status_file", "rule": "R02", "state": "overdue", "subject_id": "stu_a",
         "due_at": datetime(2026, 12, 3, 1, 30, tzinfo=UTC)},
    ]  # fmt: skip
    roster, status_file = compliance_board(deadlines, now)["overdue"]
    assert (roster["due_day"], roster["subject_zh"], roster["subject_en"]) == ("2026-10-01", "名册", "roster")
    assert (status_file["due_day"], status_file["subject_zh"]) == ("2026-12-03", "学生")
    assert roster["overdue_days"] == 66
