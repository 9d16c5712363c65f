"""R23 (and R24's exception): the offline-acceptance path, its timer, consent, acceptance and reconciliation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import applications
import pytest
from applications import RB, RS, evidence, returned
from fujian_rules import fujian_rules
from weekday_calendar import WeekdayCalendar

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_transfer import domain as d
from xueji_transfer.domain.case_events import TransferCompleted
from xueji_transfer.domain.offline_events import OfflineAccepted, OfflinePathOpened, OfflineReconciled, RecordDifference

CST = ZoneInfo("Asia/Shanghai")
RECEIVING, SENDING = "3506020001", "4301020001"  # Zhangzhou, Fujian <- Changsha, Hunan
SS = OperatorClaims(sub="clerk-ss", role=Role.SCHOOL, code=SENDING)
SB = OperatorClaims(sub="bureau-sb", role=Role.COUNTY, code="430102")
RULES = fujian_rules()
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=CST)
OFFLINE_DUE = datetime(2025, 4, 8, tzinfo=CST)  # 24:00 of the 20th working day after Mar 10


def step(
    state: d.TransferCase | None, command: d.Command, at: datetime, rules: d.TransferRules = RULES
) -> d.TransferCase:
    return events_of(state, command, at, rules)[0]


def events_of(
    state: d.TransferCase | None, command: d.Command, at: datetime, rules: d.TransferRules = RULES
) -> tuple[d.TransferCase, list[d.TransferEvent]]:
    new, events = d.handle(state, command, at, WeekdayCalendar(), rules)
    assert new is not None
    return new, events


def approve(state: d.TransferCase, stage: Stage, operator: OperatorClaims, at: datetime = MONDAY) -> d.TransferCase:
    return step(state, d.DecideStage(stage=stage, decision=Decision.APPROVE, operator=operator), at)


def applied() -> d.TransferCase:
    application = applications.application(
        sending=SENDING, grade=8, target_grade=8, reason="guardian_relocation",
        guardians_moved=d.GuardiansMoved.BOTH_PARENTS, materials=(evidence(d.EvidenceKind.CERTIFICATE_IMAGE),),
    )  # fmt: skip
    state = step(None, d.ApplyForTransfer(transfer_id="t-9", application=application, operator=RS), MONDAY)
    return step(state, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), MONDAY)


def step_4_verified() -> d.TransferCase:
    return approve(approve(applied(), Stage.RECEIVING_SCHOOL, RS), Stage.RECEIVING_BUREAU, RB)


def offline_timer(state: d.TransferCase) -> list[datetime]:
    return [t.due_at for t in d.armed_timers(state, RULES) if t.kind is d.TimerKind.OFFLINE]


def timed_out() -> d.TransferCase:
    state = step_4_verified()
    (timer,) = [t for t in d.armed_timers(state, RULES) if t.kind is d.TimerKind.OFFLINE]
    return step(state, d.FireTimer(timer_id=timer.timer_id), timer.due_at)


def consent(form: d.Evidence | None = None, operator: OperatorClaims = RB, **cause: Any) -> d.RecordOfflineConsent:
    stated = cause or {"cause": d.ConsentCause.TRANSMISSION_FAILURE}
    signed = form or evidence(d.EvidenceKind.SIGNED_REGISTRATION_FORM)
    return d.RecordOfflineConsent(operator=operator, signed_form=signed, **stated)


def test_r23_the_consent_states_its_cause_or_is_refused_naming_the_field() -> None:
    state = timed_out()
    with pytest.raises(d.Refused) as missing:
        step(state, consent(cause=None), OFFLINE_DUE)
    assert (missing.value.rule, missing.value.field) == ("R23", "cause")
    assert "system_failure" in missing.value.reason and "transmission_failure" in missing.value.reason
    with pytest.raises(d.Refused) as unwritten:
        step(state, consent(cause=d.ConsentCause.OTHER, cause_text="  "), OFFLINE_DUE)
    assert (unwritten.value.rule, unwritten.value.field) == ("R23", "cause_text")
    other = step(state, consent(cause=d.ConsentCause.OTHER, cause_text="暴雨致县网络中断"), OFFLINE_DUE)
    assert other.offline.consent_cause == "other: 暴雨致县网络中断"
    assert (
        step(state, consent(cause=d.ConsentCause.SYSTEM_FAILURE), OFFLINE_DUE).offline.consent_cause == "system_failure"
    )


# The paper Registration Form's particulars: the receiving province's registry starts the record from them (R34).
PAPER = {
    "status_number": "G430102201603150024", "name": "王小明", "gender": "male", "birth_date": "2016-03-15",
    "segment": "junior", "grade": "8", "admitted_on": "2022-09-01",
}  # fmt: skip


def accepted_offline(record: dict[str, str] | None = None) -> d.TransferCase:
    state = timed_out()
    state = step(
        state,
        consent(),
        OFFLINE_DUE,
    )
    return step(state, d.AcceptOffline(operator=RS, record={**PAPER, **(record or {})}), OFFLINE_DUE)


def test_r23_offline_path_opens_after_20_working_days() -> None:
    state = step_4_verified()
    assert offline_timer(state) == [OFFLINE_DUE]
    (timer,) = [t for t in d.armed_timers(state, RULES) if t.kind is d.TimerKind.OFFLINE]
    assert events_of(state, d.FireTimer(timer_id=timer.timer_id), OFFLINE_DUE - timedelta(minutes=1))[1] == []
    state, events = events_of(state, d.FireTimer(timer_id=timer.timer_id), OFFLINE_DUE)
    assert [type(e) for e in events] == [OfflinePathOpened]
    assert isinstance(events[0], OfflinePathOpened) and events[0].cause is d.OfflineCause.TIMEOUT
    assert state.offline.phase is d.OfflinePhase.OPEN and offline_timer(state) == []


def test_r23_offline_timeout_is_configurable() -> None:
    rules = fujian_rules(offline_timeout_working_days=5)
    state = applied()
    for stage, operator in ((Stage.RECEIVING_SCHOOL, RS), (Stage.RECEIVING_BUREAU, RB)):
        state = step(state, d.DecideStage(stage=stage, decision=Decision.APPROVE, operator=operator), MONDAY, rules)
    assert [t.due_at for t in d.armed_timers(state, rules) if t.kind is d.TimerKind.OFFLINE] == [
        datetime(2025, 3, 18, tzinfo=CST)
    ]


def test_r23_sending_school_alone_does_not_stop_the_offline_clock_both_verifications_do() -> None:
    state = approve(step_4_verified(), Stage.SENDING_SCHOOL, SS)
    assert offline_timer(state) == [OFFLINE_DUE]
    assert offline_timer(approve(state, Stage.SENDING_BUREAU, SB)) == []


def test_r23_no_offline_timer_before_step_4_and_none_when_step_4_is_reopened() -> None:
    assert offline_timer(applied()) == []
    back = returned(Stage.SENDING_SCHOOL, SS, "?")
    assert offline_timer(step(step_4_verified(), back, MONDAY)) == []


def test_r23_offline_acceptance_needs_the_receiving_bureaus_signed_registration_form() -> None:
    state = timed_out()
    with pytest.raises(d.Refused, match="sign consent") as refused:
        step(state, d.AcceptOffline(operator=RS), OFFLINE_DUE)
    assert refused.value.rule == "R23"
    with pytest.raises(d.Refused, match="Registration Form"):
        step(state, consent(evidence(d.EvidenceKind.OTHER)), OFFLINE_DUE)
    with pytest.raises(d.OutsideJurisdiction):
        step(
            state,
            consent(operator=RS),
            OFFLINE_DUE,
        )


def test_r23_no_offline_acceptance_without_an_open_path() -> None:
    state = step_4_verified()
    with pytest.raises(d.Refused, match="offline path open") as refused:
        step(
            state,
            consent(),
            MONDAY,
        )
    assert refused.value.rule == "R23"
    with pytest.raises(d.Refused, match="R23"):
        step(state, d.AcceptOffline(operator=RS), MONDAY)


def test_r23_offline_acceptance_enrolls_the_student_at_once_with_continuous_status() -> None:
    state = timed_out()
    state = step(
        state,
        consent(),
        OFFLINE_DUE,
    )
    with pytest.raises(d.Refused) as sketchy:  # R34: from another province the form must give the particulars
        step(state, d.AcceptOffline(operator=RS, record={"grade": "8"}), OFFLINE_DUE)
    assert (sketchy.value.rule, sketchy.value.field) == ("R23", "record.status_number")
    state, events = events_of(state, d.AcceptOffline(operator=RS, record=PAPER), OFFLINE_DUE)
    (accepted,) = events
    assert isinstance(accepted, OfflineAccepted)
    assert (accepted.student_id, accepted.receiving_school, accepted.continuous_status) == ("stu-1", RECEIVING, True)
    assert state.offline.phase is d.OfflinePhase.ACCEPTED
    assert state.open_stage is not None and state.open_stage.stage is Stage.SENDING_SCHOOL  # system path goes on


def test_r23_system_path_completing_later_reconciles_and_the_system_record_prevails() -> None:
    state = accepted_offline({"grade": "8", "class": "8-3", "name": "王小明"})
    state = approve(approve(state, Stage.SENDING_SCHOOL, SS), Stage.SENDING_BUREAU, SB)
    state = step(state, d.NotifyStudentToReport(operator=RS), OFFLINE_DUE)
    reported = d.RecordStudentReported(
        operator=RS,
        electronic_file=evidence(d.EvidenceKind.ELECTRONIC_FILE),
        system_record={**PAPER, "grade": "8", "name": "王晓明"},
    )
    state, events = events_of(state, reported, OFFLINE_DUE)
    completed, reconciled = events
    assert isinstance(completed, TransferCompleted) and completed.offline_accepted
    assert isinstance(reconciled, OfflineReconciled) and reconciled.prevailing == "system"
    assert reconciled.differences == (
        RecordDifference(field="class", offline="8-3", system=None),
        RecordDifference(field="name", offline="王小明", system="王晓明"),
    )
    assert state.offline.phase is d.OfflinePhase.RECONCILED


def test_r23_an_offline_acceptance_that_never_reconciles_stays_pending() -> None:
    state = accepted_offline()
    assert state.offline.phase is d.OfflinePhase.ACCEPTED and state.phase.value == "active"


def test_r23_declared_system_failure_opens_the_path_at_the_guardians_request() -> None:
    state = applied()  # long before step 4
    not_asked = d.DeclareSystemFailure(operator=RS, description="province platform down", guardian_requested=False)
    with pytest.raises(d.Refused, match="guardian") as refused:
        step(state, not_asked, MONDAY)
    assert refused.value.rule == "R23"
    asked = d.DeclareSystemFailure(operator=RB, description="province platform down", guardian_requested=True)
    state, (opened,) = events_of(state, asked, MONDAY)
    assert isinstance(opened, OfflinePathOpened) and opened.cause is d.OfflineCause.SYSTEM_FAILURE
    with pytest.raises(d.OutsideJurisdiction):
        step(applied(), d.DeclareSystemFailure(operator=SS, description="x", guardian_requested=True), MONDAY)


def test_r24_a_paper_approval_form_may_be_asked_for_only_on_the_offline_path() -> None:
    state = step(applied(), d.DeclareSystemFailure(operator=RS, description="down", guardian_requested=True), MONDAY)
    ask = returned(Stage.RECEIVING_SCHOOL, RS, "system down: paper form", d.EvidenceKind.PAPER_APPROVAL_FORM)
    assert step(state, ask, MONDAY).phase.value == "awaiting_materials"


def test_r23_once_the_transfer_information_has_arrived_the_offline_path_takes_no_consent_or_acceptance() -> None:
    """The path is for information that has not arrived: once both sending parties verified, the receiving school
    completes the transfer in the system (the bureau was still asked to sign consent, and an acceptance was taken)."""
    from xueji_transfer.inbox import todos

    opened = timed_out()
    arrived = approve(approve(opened, Stage.SENDING_SCHOOL, SS), Stage.SENDING_BUREAU, SB)
    with pytest.raises(d.Refused, match="has arrived") as refused:
        step(arrived, consent(), OFFLINE_DUE)
    assert refused.value.rule == "R23"
    assert "sign_offline_consent" not in [t["action"] for t in todos(arrived, "35")]

    consented = step(opened, consent(), OFFLINE_DUE)
    arrived = approve(approve(consented, Stage.SENDING_SCHOOL, SS), Stage.SENDING_BUREAU, SB)
    with pytest.raises(d.Refused, match="has arrived"):
        step(arrived, d.AcceptOffline(operator=RS), OFFLINE_DUE)
    assert "accept_offline" not in [t["action"] for t in todos(arrived, "35")]


def test_r23_a_case_rejected_after_an_offline_acceptance_tells_the_registry_so() -> None:
    """The system's record prevails (R23): the rejection's case message says the student was accepted offline, so
    the registry moves the student back (the domain event said so; the message did not carry it)."""
    from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
    from xueji_contracts.topics import TRANSFER_CASE
    from xueji_transfer.outgoing import outgoing

    state = accepted_offline({"grade": "8", "class": "8-3", "name": "王小明"})
    reject = d.DecideStage(
        stage=Stage.SENDING_SCHOOL, decision=Decision.REJECT, operator=SS, reason="not our student's status",
        reason_code=d.RejectionReason.STATUS_INELIGIBLE,
    )  # fmt: skip
    state, events = events_of(state, reject, OFFLINE_DUE)
    sent = [o.message.payload for o in outgoing(state, events, "c-1", "35", None) if o.topic == TRANSFER_CASE.name]
    (case,) = [p for p in sent if isinstance(p, TransferCaseChanged)]
    assert (case.outcome, case.offline_accepted) == (CaseOutcome.REJECTED, True)
