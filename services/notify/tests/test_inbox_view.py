"""The inbox as a to-do list (R22, R54, R02): one line per stage or deadline, as its newest notice says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xueji_notify.domain.inbox_view import current

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
SCHOOL, COUNTY = "3506020001", "350602"


def note(nid: str, kind: str, severity: str, at: int, *, to: str = SCHOOL, subject: str = "tr_1", **details):
    return {"_id": nid, "kind": kind, "severity": severity, "jurisdiction": to, "subject_id": subject,
            "created_at": T0 + timedelta(hours=at), "details": details}  # fmt: skip


def newest_first(*notes):
    return sorted(notes, key=lambda n: n["created_at"], reverse=True)


def test_r22_a_stage_is_one_line_as_its_newest_notice_says_and_an_escalation_stays_its_own_line():
    notes = newest_first(
        note("o", "stage_opened", "action", 0, stage="receiving_school"),
        note("w", "stage_warning", "warning", 1, stage="receiving_school"),
        note("b", "stage_breached", "urgent", 2, stage="receiving_school"),
        note("e", "stage_escalated", "urgent", 2, to=COUNTY, stage="receiving_school"),
        note("o2", "stage_opened", "action", 0, subject="tr_2", stage="sending_school"),
        note("r", "status_recorded", "info", 3, subject="stu_1"),
    )
    assert [n["_id"] for n in current(notes, COUNTY)] == ["r", "b", "e", "o2"]


def test_r22_a_stage_approved_leaves_the_list_and_one_refused_stays_for_the_school_to_act_on():
    notes = newest_first(
        note("o", "stage_opened", "action", 0, stage="receiving_bureau"),
        note("d", "stage_decided", "info", 1, stage="receiving_bureau", decision="approve"),
        note("o2", "stage_opened", "action", 0, subject="tr_2", stage="sending_school"),
        note("d2", "stage_decided", "action", 1, subject="tr_2", stage="sending_school", decision="reject"),
    )
    assert [n["_id"] for n in current(notes, SCHOOL)] == ["d2"]


def test_r54_r02_a_deadline_is_one_line_the_county_gets_its_own_flagged_copy_and_a_met_one_is_gone():
    roster = {"deadline_id": "roster:3506020001:2026:R54"}
    status_file = {"deadline_id": "stu_1:R02"}
    notes = newest_first(
        note("r-open", "compliance", "action", 0, **roster),
        note("r-soon", "compliance", "warning", 1, **roster),
        note("r-late-school", "compliance", "urgent", 2, **roster),
        note("r-late-county", "compliance", "urgent", 2, to=COUNTY, **roster),
        note("f-open", "compliance", "action", 0, subject="stu_1", **status_file),
        note("f-met", "compliance", "info", 1, subject="stu_1", **status_file),
    )
    assert [n["_id"] for n in current(notes, COUNTY)] == ["r-late-county"]
    assert [n["_id"] for n in current(notes, SCHOOL)] == ["r-late-school"]


def test_r02_notices_of_the_same_millisecond_are_told_apart_by_how_far_on_they_are():
    """Stored times are to the millisecond: a deadline opened and met in one (a redelivered pair, a fast test) is
    done, whichever the store returns first."""
    status_file = {"deadline_id": "stu_2:R02"}
    opened = note("f-open", "compliance", "action", 0, subject="stu_2", state="opened", **status_file)
    met = note("f-met", "compliance", "info", 0, subject="stu_2", state="met", **status_file)
    assert current([opened, met], SCHOOL) == [] == current([met, opened], SCHOOL)


def test_r14_a_review_is_one_line_until_it_is_decided_and_the_city_sees_its_own_copy_of_an_overdue_one():
    case = {"case_id": "dr_1"}
    notes = newest_first(
        note("v-open", "dedupe_review", "action", 0, to=COUNTY, subject="stu_3", **case),
        note("v-late", "dedupe_review", "urgent", 1, to=COUNTY, subject="stu_3", state="overdue", **case),
        note("v-late-city", "dedupe_review", "urgent", 1, to="350600", subject="stu_3", state="overdue", **case),
    )
    assert [n["_id"] for n in current(notes, COUNTY)] == ["v-late"]
    assert [n["_id"] for n in current(notes, "350600")] == ["v-late-city"]
    decided = note(
        "v-done", "dedupe_review", "info", 2, to=SCHOOL, subject="stu_3", decision="different_person", **case
    )
    assert current([decided, *notes], COUNTY) == []
