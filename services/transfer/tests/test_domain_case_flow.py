"""R20, R21, R24, R30, R34, R50: the 8 steps in order, decisions, evidence and who may decide."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import applications
import pytest
from applications import RB, RS, evidence, rejected, returned
from fujian_rules import fujian_rules
from hypothesis import given, settings
from hypothesis import strategies as st
from weekday_calendar import WeekdayCalendar

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_transfer import domain as d
from xueji_transfer.domain.case_events import TransferCompleted, TransferRejected
from xueji_transfer.domain.stage_events import StageOpened

CST = ZoneInfo("Asia/Shanghai")
RECEIVING, SENDING, HUNAN_SCHOOL = "3506020001", "3501020003", "4301020001"
SS = OperatorClaims(sub="clerk-ss", role=Role.SCHOOL, code=SENDING)
SB = OperatorClaims(sub="bureau-sb", role=Role.COUNTY, code="350102")
HN_SS = OperatorClaims(sub="clerk-hn", role=Role.SCHOOL, code=HUNAN_SCHOOL)
PARTY = {Stage.RECEIVING_SCHOOL: RS, Stage.RECEIVING_BUREAU: RB, Stage.SENDING_SCHOOL: SS, Stage.SENDING_BUREAU: SB}
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=CST)


BASIC_MATERIALS = (evidence(d.EvidenceKind.STATUS_BASIC_INFO), evidence(d.EvidenceKind.REASON_PROOF))


def application(sending: str = SENDING, materials: tuple[d.Evidence, ...] = BASIC_MATERIALS) -> d.TransferApplication:
    return applications.application(sending=sending, materials=materials)


class Run:
    """Feeds commands through decide + apply, one day apart, and keeps every event."""

    def __init__(self) -> None:
        self.state: d.TransferCase | None = None
        self.events: list[d.TransferEvent] = []
        self.now = MONDAY

    def __call__(self, command: object, *, days: int = 1) -> list[d.TransferEvent]:
        self.now += timedelta(days=days)
        self.state, new = d.handle(self.state, command, self.now, WeekdayCalendar(), fujian_rules())  # type: ignore[arg-type]
        self.events += new
        return new

    @property
    def case(self) -> d.TransferCase:
        assert self.state is not None
        return self.state


def started(app: d.TransferApplication | None = None, *, certificate: bool = True) -> Run:
    run = Run()
    run(d.ApplyForTransfer(transfer_id="t-1", application=app or application(), operator=RS), days=0)
    if certificate:
        run(d.AddMaterials(materials=(evidence(d.EvidenceKind.CERTIFICATE_IMAGE),), operator=RS), days=0)
    run(d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), days=0)
    return run


def approve(run: Run, stage: Stage) -> list[d.TransferEvent]:
    return run(d.DecideStage(stage=stage, decision=Decision.APPROVE, operator=PARTY[stage]))


def consented(app: d.TransferApplication | None = None) -> Run:
    run = started(app)
    for stage in PARTY:
        approve(run, stage)
    return run


def test_r21_steps_run_in_order() -> None:
    run = started()
    assert run.case.step == 2
    opened = []
    for stage, step in zip(PARTY, (3, 4, 5, 6), strict=True):
        opened += [e.stage for e in run.events if isinstance(e, StageOpened)]
        approve(run, stage)
        assert run.case.step == step
    assert [e.stage for e in run.events if isinstance(e, StageOpened)] == list(PARTY)
    run(d.NotifyStudentToReport(operator=RS))
    assert run.case.step == 7
    done = run(d.RecordStudentReported(operator=RS, electronic_file=evidence(d.EvidenceKind.ELECTRONIC_FILE)))
    completed = done[0]
    assert isinstance(completed, TransferCompleted)
    assert (completed.student_id, completed.sending_school, completed.receiving_school) == ("stu-1", SENDING, RECEIVING)
    assert completed.sending_school_notified
    assert run.case.step == 8 and run.case.phase is d.CasePhase.COMPLETED


def test_r21_each_stage_opens_addressed_to_its_party_with_deadline_and_calendar_version() -> None:
    run = consented()
    opened = {e.stage: e for e in run.events if isinstance(e, StageOpened)}
    assert {s: e.jurisdiction for s, e in opened.items()} == {
        Stage.RECEIVING_SCHOOL: RECEIVING,
        Stage.RECEIVING_BUREAU: "350602",
        Stage.SENDING_SCHOOL: SENDING,
        Stage.SENDING_BUREAU: "350102",
    }
    first = opened[Stage.RECEIVING_SCHOOL].deadline
    assert first.opened_at == MONDAY
    assert first.due_at == datetime(2025, 3, 25, 0, 0, tzinfo=CST)  # 24:00 of the 10th working day
    assert first.warn_at == datetime(2025, 3, 21, 0, 0, tzinfo=CST)  # 2 working days earlier
    assert (first.calendar_version, first.provisional) == ("weekday-only", True)


def test_r21_a_later_stage_cannot_be_decided_before_its_turn() -> None:
    run = started()
    with pytest.raises(d.StageNotOpen, match="receiving_bureau stage is not open"):
        approve(run, Stage.RECEIVING_BUREAU)


def test_r21_initiation_needs_the_examination_first() -> None:
    run = started()
    run.state = run.case.model_copy(update={"step": 1})
    with pytest.raises(d.OutOfOrder, match="step 2"):
        approve(run, Stage.RECEIVING_SCHOOL)


def test_r21_notification_needs_all_three_consents_and_report_needs_notification() -> None:
    run = started()
    for stage in list(PARTY)[:3]:
        approve(run, stage)
    with pytest.raises(d.OutOfOrder, match="three parties"):
        run(d.NotifyStudentToReport(operator=RS))
    approve(run, Stage.SENDING_BUREAU)
    with pytest.raises(d.OutOfOrder, match="step 7"):
        run(d.RecordStudentReported(operator=RS, electronic_file=evidence(d.EvidenceKind.ELECTRONIC_FILE)))


def test_r21_a_decided_stage_is_closed() -> None:
    run = started()
    approve(run, Stage.RECEIVING_SCHOOL)
    with pytest.raises(d.StageNotOpen, match="it was approved"):
        approve(run, Stage.RECEIVING_SCHOOL)


def test_r21_reject_ends_the_case_with_its_reason() -> None:
    run = started()
    approve(run, Stage.RECEIVING_SCHOOL)
    events = run(
        rejected(Stage.RECEIVING_BUREAU, RB, d.RejectionReason.MATERIALS_INVALID, "household register does not match")
    )
    assert isinstance(events[0], TransferRejected) and events[0].reason == "household register does not match"
    assert run.case.phase is d.CasePhase.REJECTED
    assert run.case.stages[Stage.RECEIVING_BUREAU].status is d.StageStatus.REJECTED
    with pytest.raises(d.StageNotOpen, match="the case is rejected"):
        approve(run, Stage.RECEIVING_BUREAU)


def test_r21_return_for_materials_reopens_the_previous_partys_stage() -> None:
    run = started()
    approve(run, Stage.RECEIVING_SCHOOL)
    approve(run, Stage.RECEIVING_BUREAU)
    back = returned(Stage.SENDING_SCHOOL, SS, "unclear")
    events = run(back)
    reopened = events[-1]
    assert isinstance(reopened, StageOpened) and reopened.stage is Stage.RECEIVING_BUREAU and reopened.round == 2
    assert reopened.deadline.opened_at == run.now
    assert run.case.open_stage is not None and run.case.open_stage.stage is Stage.RECEIVING_BUREAU
    assert run.case.step == 3
    approve(run, Stage.RECEIVING_BUREAU)
    assert run.case.open_stage is not None and run.case.open_stage.stage is Stage.SENDING_SCHOOL


def test_r21_receiving_school_returns_to_the_guardian_and_new_materials_reopen_its_stage() -> None:
    run = started()
    run(returned(Stage.RECEIVING_SCHOOL, RS, "proof"))
    assert run.case.phase is d.CasePhase.AWAITING_MATERIALS and run.case.open_stage is None
    events = run(d.AddMaterials(materials=(evidence(d.EvidenceKind.HOUSEHOLD_REGISTER),), operator=RS))
    assert isinstance(events[-1], StageOpened) and events[-1].round == 2
    assert run.case.phase is d.CasePhase.ACTIVE and run.case.step == 1
    with pytest.raises(d.OutOfOrder):  # examined again before initiating
        approve(run, Stage.RECEIVING_SCHOOL)
    run(d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True))
    approve(run, Stage.RECEIVING_SCHOOL)
    assert run.case.step == 3


def test_r21_no_vacancy_refers_the_guardian_to_the_county_bureau() -> None:
    run = Run()
    run(d.ApplyForTransfer(transfer_id="t-1", application=application(), operator=RS))
    events = run(d.ExamineConditions(operator=RS, conditions_met=True, vacancy=False))
    assert isinstance(events[0], TransferRejected)
    assert (events[0].reason_code, events[0].referred_to) == (d.RejectionReason.NO_VACANCY, "350602")


def test_r30_initiation_requires_the_certificate_image() -> None:
    run = started(certificate=False)
    with pytest.raises(d.Refused, match="certificate") as refused:
        approve(run, Stage.RECEIVING_SCHOOL)
    assert refused.value.rule == "R30" and refused.value.field == "materials"
    run(d.AddMaterials(materials=(evidence(d.EvidenceKind.CERTIFICATE_IMAGE),), operator=RS))
    approve(run, Stage.RECEIVING_SCHOOL)


def test_r30_evidence_is_a_reference_with_a_sha256() -> None:
    with pytest.raises(ValueError, match="sha256"):
        d.Evidence(kind=d.EvidenceKind.CERTIFICATE_IMAGE, uri="s3://x", sha256="not-a-hash")
    assert started().case.materials[-1].kind is d.EvidenceKind.CERTIFICATE_IMAGE


def test_r24_a_full_transfer_needs_no_paper_approval_form() -> None:
    run = consented()
    run(d.NotifyStudentToReport(operator=RS))
    run(d.RecordStudentReported(operator=RS, electronic_file=evidence(d.EvidenceKind.ELECTRONIC_FILE)))
    assert run.case.phase is d.CasePhase.COMPLETED
    assert all(m.kind is not d.EvidenceKind.PAPER_APPROVAL_FORM for m in run.case.materials)


def test_r24_asking_for_a_paper_approval_form_is_refused() -> None:
    run = started()
    ask = returned(Stage.RECEIVING_SCHOOL, RS, "bring the stamped approval form", d.EvidenceKind.PAPER_APPROVAL_FORM)
    with pytest.raises(d.Refused, match="paper approval form") as refused:
        run(ask)
    assert refused.value.rule == "R24"


def test_r24_the_bureau_cannot_ask_for_its_own_sealed_registration_form_outside_the_offline_path() -> None:
    """The signed Registration Form carries the receiving bureau's consent and seal (R23): an approval form."""
    run = started()
    approve(run, Stage.RECEIVING_SCHOOL)
    ask = returned(
        Stage.RECEIVING_BUREAU, RB, "bring the form with the bureau's seal", d.EvidenceKind.SIGNED_REGISTRATION_FORM
    )
    with pytest.raises(d.Refused) as refused:
        run(ask)
    assert (refused.value.rule, refused.value.field) == ("R24", "requested")
    assert run.case.offline.phase is d.OfflinePhase.NONE


@pytest.mark.parametrize(
    ("stage", "operator"),
    [
        (Stage.RECEIVING_SCHOOL, SS),  # another school
        (Stage.RECEIVING_SCHOOL, RB),  # its own county bureau is not the school
        (Stage.RECEIVING_SCHOOL, OperatorClaims(sub="x", role=Role.SCHOOL, code="3506020002")),
    ],
)
def test_r50_a_decision_outside_the_stages_jurisdiction_is_refused(stage: Stage, operator: OperatorClaims) -> None:
    run = started()
    with pytest.raises(d.OutsideJurisdiction) as refused:
        run(d.DecideStage(stage=stage, decision=Decision.APPROVE, operator=operator))
    assert refused.value.rule == "R50" and refused.value.field == "operator"


def test_r50_a_bureau_stage_is_decided_by_that_county_only() -> None:
    run = started()
    approve(run, Stage.RECEIVING_SCHOOL)
    city = OperatorClaims(sub="city", role=Role.CITY, code="350600")
    other_county = OperatorClaims(sub="x", role=Role.COUNTY, code="350603")
    for operator in (city, other_county, SB):
        with pytest.raises(d.OutsideJurisdiction):
            run(d.DecideStage(stage=Stage.RECEIVING_BUREAU, decision=Decision.APPROVE, operator=operator))


def test_r50_only_the_receiving_school_records_an_application() -> None:
    with pytest.raises(d.OutsideJurisdiction):
        Run()(d.ApplyForTransfer(transfer_id="t-1", application=application(), operator=SS))


def test_r20_refusing_because_the_student_has_no_status_yet_is_refused() -> None:
    run = started()
    no_status = rejected(Stage.RECEIVING_SCHOOL, RS, d.RejectionReason.NO_STATUS_YET, "status not transferred")
    with pytest.raises(d.Refused) as refused:
        run(no_status)
    assert refused.value.rule == "R20"


R34_GROUNDS = [
    d.RejectionReason.RECEIVING_ADMISSION_RULES,
    d.RejectionReason.SCORE_BELOW_RECEIVING_REQUIREMENT,
    d.RejectionReason.RECEIVING_ADMISSION_IRREGULAR,
]
HN_SB = OperatorClaims(sub="bureau-hn", role=Role.COUNTY, code="430102")


def at_sending_stage(stage: Stage, app: d.TransferApplication) -> Run:
    run = started(app)
    approve(run, Stage.RECEIVING_SCHOOL)
    approve(run, Stage.RECEIVING_BUREAU)
    if stage is Stage.SENDING_BUREAU:
        run(d.DecideStage(stage=Stage.SENDING_SCHOOL, decision=Decision.APPROVE, operator=HN_SS))
    return run


def reject(stage: Stage, code: d.RejectionReason, operator: OperatorClaims | None = None) -> d.DecideStage:
    operator = operator or {Stage.SENDING_SCHOOL: HN_SS, Stage.SENDING_BUREAU: HN_SB}.get(stage, PARTY[stage])
    return rejected(stage, operator, code)


def hunan_progression() -> d.TransferApplication:
    app = application(sending=HUNAN_SCHOOL)
    changes = {
        "kind": d.TransferKind.PROGRESSION,
        "status": StatusState.GRADUATED,
        "graduated_on": date(2024, 6, 30),
        "term": None,
    }
    return app.model_copy(update=changes)


@pytest.mark.parametrize("code", R34_GROUNDS)
@pytest.mark.parametrize("stage", [Stage.SENDING_SCHOOL, Stage.SENDING_BUREAU])
@pytest.mark.parametrize("kind", ["transfer", "progression"])
def test_r34_the_sending_province_may_not_refuse_on_the_receiving_provinces_admission_or_scores(
    code: d.RejectionReason, stage: Stage, kind: str
) -> None:
    app = application(sending=HUNAN_SCHOOL) if kind == "transfer" else hunan_progression()
    run = at_sending_stage(stage, app)
    with pytest.raises(d.Refused) as refused:
        run(reject(stage, code))
    assert (refused.value.rule, refused.value.field) == ("R34", "reason_code")
    assert run.case.phase is d.CasePhase.ACTIVE


@pytest.mark.parametrize("code", [d.RejectionReason.OTHER, d.RejectionReason.CONDITIONS_NOT_MET])
def test_r34_the_sending_side_cannot_bring_the_ban_back_under_another_code(code: d.RejectionReason) -> None:
    run = at_sending_stage(Stage.SENDING_SCHOOL, application(sending=HUNAN_SCHOOL))
    with pytest.raises(d.Refused) as refused:
        run(reject(Stage.SENDING_SCHOOL, code))
    assert refused.value.rule == "R34" and "status_ineligible" in refused.value.reason


def test_r34_the_sending_side_may_still_reject_on_its_own_record() -> None:
    run = at_sending_stage(Stage.SENDING_BUREAU, application(sending=HUNAN_SCHOOL))
    run(reject(Stage.SENDING_BUREAU, d.RejectionReason.STATUS_INELIGIBLE))
    assert run.case.phase is d.CasePhase.REJECTED


@pytest.mark.parametrize("code", R34_GROUNDS)
@pytest.mark.parametrize("stage", [Stage.RECEIVING_SCHOOL, Stage.RECEIVING_BUREAU])
def test_r34_does_not_limit_the_receiving_sides_own_examination(code: d.RejectionReason, stage: Stage) -> None:
    run = started(application(sending=HUNAN_SCHOOL))
    if stage is Stage.RECEIVING_BUREAU:
        approve(run, Stage.RECEIVING_SCHOOL)
    run(reject(stage, code))
    assert (run.case.phase, run.case.rejection) == (d.CasePhase.REJECTED, code)


def test_r34_within_one_province_the_sending_side_is_not_limited() -> None:
    run = started()
    approve(run, Stage.RECEIVING_SCHOOL)
    approve(run, Stage.RECEIVING_BUREAU)
    run(reject(Stage.SENDING_SCHOOL, d.RejectionReason.OTHER, SS))
    assert run.case.phase is d.CasePhase.REJECTED


def test_r34_the_irregular_admission_ground_names_the_receiving_province() -> None:
    assert "sending_admission_irregular" not in {r.value for r in d.RejectionReason}
    # Stored events and other systems' messages with the old spelling still read, as the ground they meant.
    assert d.RejectionReason("sending_admission_irregular") is d.RejectionReason.RECEIVING_ADMISSION_IRREGULAR


def test_r34_interprovincial_case_runs_through_both_provinces_parties() -> None:
    run = started(application(sending=HUNAN_SCHOOL))
    approve(run, Stage.RECEIVING_SCHOOL)
    approve(run, Stage.RECEIVING_BUREAU)
    assert run.case.open_stage is not None and run.case.open_stage.jurisdiction == HUNAN_SCHOOL
    run(d.DecideStage(stage=Stage.SENDING_SCHOOL, decision=Decision.APPROVE, operator=HN_SS))
    assert run.case.open_stage is not None and run.case.open_stage.jurisdiction == "430102"


def test_r34_other_reasons_may_still_reject_an_interprovincial_case() -> None:
    run = started(application(sending=HUNAN_SCHOOL))
    reject = rejected(Stage.RECEIVING_SCHOOL, RS, d.RejectionReason.MATERIALS_INVALID, "forged household register")
    run(reject)
    assert run.case.phase is d.CasePhase.REJECTED


def test_r12_events_round_trip_through_documents_and_replay_to_the_same_state() -> None:
    run = consented()
    documents = d.to_documents(run.events)
    assert d.replay(d.from_documents(documents)) == run.case
    assert run.case.version == len(run.events)


# Approvals weigh more, so that many drawn sequences run all the way to completion.
ACTIONS = [
    *[("approve", s) for s in PARTY] * 6,
    *[("return", s) for s in PARTY],
    *[("examine", None), ("notify", None), ("report", None)] * 3,
    ("materials", None),
]


def command_for(action: str, stage: Stage | None) -> object:
    if stage is not None:
        decision = Decision.APPROVE if action == "approve" else Decision.RETURN_FOR_MATERIALS
        return d.DecideStage(stage=stage, decision=decision, operator=PARTY[stage], reason="more")
    return {
        "examine": d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True),
        "materials": d.AddMaterials(materials=(evidence(d.EvidenceKind.OTHER),), operator=RS),
        "notify": d.NotifyStudentToReport(operator=RS),
        "report": d.RecordStudentReported(operator=RS, electronic_file=evidence(d.EvidenceKind.ELECTRONIC_FILE)),
    }[action]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(ACTIONS), max_size=40))
def test_r21_no_sequence_of_commands_skips_or_reorders_a_step(actions: list[tuple[str, Stage | None]]) -> None:
    run = started()
    stages = list(PARTY)
    for action, stage in actions:
        with contextlib.suppress(d.TransferError):
            run(command_for(action, stage))
        case = run.case
        open_stage = case.open_stage
        if open_stage is not None:
            index = stages.index(open_stage.stage)
            assert all(case.approved(s) for s in stages[:index])
            assert not any(case.approved(s) for s in stages[index:])
        if 3 <= case.step <= 6:
            assert all(case.approved(s) for s in stages[: case.step - 2])
        if case.phase is d.CasePhase.COMPLETED:
            kinds = [e.type for e in run.events]
            assert all(case.approved(s) for s in stages)
            assert kinds.index("student_notified_to_report") < kinds.index("transfer_completed")
