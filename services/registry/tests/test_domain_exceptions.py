"""RULES "Exceptions to 'generally' rules" for R40 (suspension) and R08 (certificate reissue), in the pure domain:
refused by default naming the rule, allowed once the named authority recorded an exception (its own event), never
by a school's say, and never for the absolute parts."""

from __future__ import annotations

from datetime import date

import pytest
from test_domain_lifecycle import (
    AUTUMN_2024,
    COUNTY_CLERK,
    ILLNESS,
    SCHOOL_CLERK,
    SPRING_2025,
    E,
    Record,
    evidence,
    graduation,
    suspended,
)

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_registry import domain as d
from xueji_registry.domain.rule_exceptions import ExceptionRecorded
from xueji_registry.domain.status_events import Suspended

OTHER_COUNTY = OperatorClaims(sub="county-9", role=Role.COUNTY, code="350603")


def exception(rule: str, clause: str, operator: OperatorClaims = COUNTY_CLERK, **more: str) -> d.RecordException:
    return d.RecordException(
        operator=operator,
        reason="重病住院，经县教育局研究同意",
        evidence=evidence(E.SUPPORTING_DOCUMENT),
        rule=rule,
        clause=clause,
        **more,
    )


def graduation_semester_suspension() -> d.Suspend:
    return d.Suspend(cause=d.SuspensionCause.ILLNESS, term=SPRING_2025)


def test_r40_graduation_semester_suspension_refused_unless_county_exception() -> None:
    record = Record(d.Segment.PRIMARY, grade=6)
    with pytest.raises(d.Refused) as refused:
        record.ask(graduation_semester_suspension(), *ILLNESS, days=150)
    assert refused.value.rule == "R40" and refused.value.field == "term"
    assert "county bureau" in refused.value.reason
    [recorded] = record.do(exception("R40", "graduation_semester"), days=151)
    assert isinstance(recorded, ExceptionRecorded)
    assert (recorded.rule, recorded.by.role, recorded.by.code) == ("R40", Role.COUNTY, "350602")
    assert recorded.reason and recorded.evidence  # written reason and evidence (R12)
    record.change(graduation_semester_suspension(), *ILLNESS, days=152)
    assert record.now.state is StatusState.SUSPENDED
    suspension_event = next(e for e in record.events if isinstance(e, Suspended))
    assert suspension_event.exception_ids == (recorded.exception_id,)
    assert record.now.exceptions[0].used_by is not None  # used once: a second time needs another


def test_r40_school_cannot_grant_exception() -> None:
    record = Record(d.Segment.PRIMARY, grade=6)
    with pytest.raises(d.OutsideJurisdiction) as refused:
        record.do(exception("R40", "graduation_semester", operator=SCHOOL_CLERK))
    assert "R40" in refused.value.reason and "never by a school" in refused.value.reason
    with pytest.raises(d.OutsideJurisdiction):  # nor another county's bureau
        record.do(exception("R40", "graduation_semester", operator=OTHER_COUNTY))
    assert record.now.exceptions == ()
    with pytest.raises(d.Refused):
        record.ask(graduation_semester_suspension(), *ILLNESS, days=150)


@pytest.mark.parametrize("blank", ["   ", "\n\t"])
def test_exceptions_an_exception_without_a_written_reason_is_refused_naming_the_field(blank: str) -> None:
    record = Record(d.Segment.PRIMARY, grade=6)
    command = d.RecordException.model_validate(
        {**exception("R40", "graduation_semester").model_dump(), "reason": blank}
    )
    with pytest.raises(d.Refused) as refused:
        record.do(command, days=151)
    assert (refused.value.rule, refused.value.field) == ("R40", "reason")
    assert "written reason" in refused.value.reason
    assert record.now.exceptions == ()
    written = command.model_copy(update={"reason": "  重病住院，经县教育局研究同意 "})
    [recorded] = record.do(written, days=151)
    assert isinstance(recorded, ExceptionRecorded) and recorded.reason == "重病住院，经县教育局研究同意"


def test_exceptions_an_r08_exception_without_a_written_reason_is_refused() -> None:
    record, number = graduate_with_one_reissue()
    blank = exception("R08", "second_reissue", certificate_number=number).model_copy(update={"reason": " "})
    with pytest.raises(d.Refused) as refused:
        record.do(blank, days=801)
    assert (refused.value.rule, refused.value.field) == ("R08", "reason")
    assert record.now.exceptions == ()


def test_r40_a_different_suspension_period_only_by_county_exception() -> None:
    record = Record()
    with pytest.raises(d.Refused) as refused:
        record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024, months=6), *ILLNESS)
    assert (refused.value.rule, refused.value.field) == ("R40", "months")
    record.do(exception("R40", "suspension_period"))
    record.change(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024, months=6), *ILLNESS)
    assert record.now.suspension is not None and record.now.suspension.expires_on == date(2025, 3, 10)


def test_r40_the_one_extension_is_absolute_and_takes_no_exception() -> None:
    record = suspended()
    with pytest.raises(d.Refused) as refused:
        record.do(exception("R40", "second_extension"))
    assert refused.value.rule == "R40" and "absolute" in refused.value.reason
    with pytest.raises(d.Refused) as longer:
        record.ask(d.ExtendSuspension(months=18), E.WRITTEN_APPLICATION, days=360)
    assert "absolute" in longer.value.reason and longer.value.field == "months"
    record.change(d.ExtendSuspension(), E.WRITTEN_APPLICATION, days=360)
    with pytest.raises(d.Refused) as second:
        record.ask(d.ExtendSuspension(), E.WRITTEN_APPLICATION, days=700)
    assert "absolute" in second.value.reason


def graduate_with_one_reissue() -> tuple[Record, str]:
    record = Record(d.Segment.JUNIOR, grade=9)
    record.change(graduation(), E.GRADUATION_ROSTER, days=280)
    number = record.now.certificates[0].number
    assert number is not None
    record.change(d.ReissueCertificate(certificate_number=number), E.LOSS_STATEMENT, days=400)
    return record, number


def test_r08_second_reissue_refused_unless_bureau_exception() -> None:
    record, number = graduate_with_one_reissue()
    with pytest.raises(d.Refused) as refused:
        record.ask(d.ReissueCertificate(certificate_number=number), E.LOSS_STATEMENT, days=800)
    assert refused.value.rule == "R08" and "prints reissues" in refused.value.reason
    [recorded] = record.do(exception("R08", "second_reissue", certificate_number=number), days=801)
    assert isinstance(recorded, ExceptionRecorded) and recorded.certificate_number == number
    record.change(d.ReissueCertificate(certificate_number=number), E.LOSS_STATEMENT, days=802)
    assert record.now.certificates[0].reissues == 2
    with pytest.raises(d.Refused):  # the exception was used: a third reissue needs another
        record.ask(d.ReissueCertificate(certificate_number=number), E.LOSS_STATEMENT, days=900)


def test_r08_school_cannot_grant_exception() -> None:
    record, number = graduate_with_one_reissue()
    with pytest.raises(d.OutsideJurisdiction) as refused:
        record.do(exception("R08", "second_reissue", operator=SCHOOL_CLERK, certificate_number=number))
    assert "R08" in refused.value.reason
    assert record.now.exceptions == ()


def test_r08_the_first_reissue_needs_no_exception_and_an_unknown_clause_is_named() -> None:
    record = Record(d.Segment.JUNIOR, grade=9)
    record.change(graduation(), E.GRADUATION_ROSTER, days=280)
    number = record.now.certificates[0].number
    assert number is not None
    with pytest.raises(d.Refused) as first:
        record.do(exception("R08", "second_reissue", certificate_number=number))
    assert "first reissue" in first.value.reason
    with pytest.raises(d.Refused) as unknown:
        record.do(exception("R08", "graduation_semester", certificate_number=number))
    assert unknown.value.field == "clause"
