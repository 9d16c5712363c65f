"""R24, R30: the province's materials checklist (policy file), recorded as evidence before step 3, with the
certificate image; the guardian's signed application (Annex 4) is one of them, never a paper approval form."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from applications import RB, RS, application, evidence
from weekday_calendar import WeekdayCalendar

from xueji_contracts.messages.transfer import Decision, Stage
from xueji_contracts.policy import load_policy
from xueji_transfer import domain as d
from xueji_transfer.domain.record import StudentRecord

CST = ZoneInfo("Asia/Shanghai")
RECEIVING, SENDING = "3506020001", "3501020003"
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=CST)
FUJIAN = d.TransferRules.from_policy(load_policy("fj"))
K = d.EvidenceKind
EVERYTHING_ALWAYS = (K.REGISTRATION_FORM, K.STATUS_BASIC_INFO, K.HOUSEHOLD_REGISTER, K.CERTIFICATE_IMAGE)


def examined(kinds: tuple[d.EvidenceKind, ...], **facts: Any) -> d.TransferCase:
    app = application(materials=tuple(evidence(k) for k in kinds), **facts)
    case, _ = d.handle(None, d.ApplyForTransfer(transfer_id="t", application=app, operator=RS), MONDAY, *_world())
    case, _ = d.handle(case, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), MONDAY, *_world())
    assert case is not None
    return case


def _world() -> tuple[WeekdayCalendar, d.TransferRules]:
    return WeekdayCalendar(), FUJIAN


def initiate(case: d.TransferCase) -> d.TransferCase:
    command = d.DecideStage(stage=Stage.RECEIVING_SCHOOL, decision=Decision.APPROVE, operator=RS)
    after, _ = d.handle(case, command, MONDAY, *_world())
    assert after is not None
    return after


def missing(case: d.TransferCase) -> str:
    with pytest.raises(d.Refused) as caught:
        initiate(case)
    assert (caught.value.rule, caught.value.field) == ("R30", "materials")
    return caught.value.reason


def test_r30_the_provinces_checklist_is_recorded_before_step_3() -> None:
    case = examined((K.STATUS_BASIC_INFO, K.REASON_PROOF, K.CERTIFICATE_IMAGE))
    reason = missing(case)
    assert "registration_form" in reason and "household_register" in reason and "reason_proof" not in reason
    more = d.AddMaterials(materials=(evidence(K.REGISTRATION_FORM), evidence(K.HOUSEHOLD_REGISTER)), operator=RS)
    case, _ = d.handle(case, more, MONDAY, *_world())
    assert case is not None and initiate(case).step == 3


def test_r30_step_3_also_needs_the_certificate_image() -> None:
    everything_but = (K.REGISTRATION_FORM, K.STATUS_BASIC_INFO, K.HOUSEHOLD_REGISTER, K.REASON_PROOF)
    assert "certificate" in missing(examined(everything_but))


def test_r30_reason_proof_only_where_the_household_register_did_not_move() -> None:
    assert "reason_proof" in missing(examined(EVERYTHING_ALWAYS))
    assert initiate(examined(EVERYTHING_ALWAYS, household_register_changed=True)).step == 3


def test_r30_proof_of_earlier_status_changes_if_any() -> None:
    with_proof = (*EVERYTHING_ALWAYS, K.REASON_PROOF)
    assert "status_change_proof" in missing(examined(with_proof, earlier_status_changes=True))
    assert initiate(examined((*with_proof, K.STATUS_CHANGE_PROOF), earlier_status_changes=True)).step == 3


def test_r24_the_guardians_signed_application_is_a_required_material_not_a_paper_approval_form() -> None:
    assert "registration_form" in {m.kind for m in FUJIAN.required_materials}
    assert "paper_approval_form" not in {m.kind for m in FUJIAN.required_materials}
    case = initiate(examined((*EVERYTHING_ALWAYS, K.REASON_PROOF)))
    ask = {"stage": Stage.RECEIVING_BUREAU, "decision": Decision.RETURN_FOR_MATERIALS, "operator": RB, "reason": "?"}
    with pytest.raises(d.Refused) as approval_form:
        d.handle(case, d.DecideStage(**ask, requested=(K.PAPER_APPROVAL_FORM,)), MONDAY, *_world())
    assert approval_form.value.rule == "R24"
    returned, _ = d.handle(case, d.DecideStage(**ask, requested=(K.REGISTRATION_FORM,)), MONDAY, *_world())
    assert returned is not None


def test_r30_a_policy_file_naming_an_unknown_material_fails_with_the_field() -> None:
    from xueji_contracts.policy import PolicyError, parse_policy

    text = 'code: "35"\nname: X\ntransfer_materials:\n  required:\n    - {kind: approval_stamp, zh: x, en: x}\n'
    with pytest.raises(PolicyError, match=r"transfer_materials\.required\.0.*approval_stamp"):
        parse_policy(text)


def record(state: str, school_year: int = 2024) -> StudentRecord:
    return StudentRecord(
        student_id="stu-1", school_code=SENDING, county_code=SENDING[:6], state=state, grade=4, school_year=school_year
    )


def test_r28_the_record_is_asked_again_when_the_receiving_school_initiates() -> None:
    case = examined((*EVERYTHING_ALWAYS, K.REASON_PROOF))
    initiate_with = d.DecideStage(stage=Stage.RECEIVING_SCHOOL, decision=Decision.APPROVE, operator=RS)
    with pytest.raises(d.Refused) as suspended:
        d.handle(case, initiate_with.model_copy(update={"record": record("suspended")}), MONDAY, *_world())
    assert (suspended.value.rule, suspended.value.field) == ("R28", "status")
    # A school year turned since the application does not make its grade a contradiction.
    last_year = initiate_with.model_copy(update={"record": record("enrolled", school_year=2023)})
    after, _ = d.handle(case, last_year, MONDAY, *_world())
    assert after is not None and after.step == 3
