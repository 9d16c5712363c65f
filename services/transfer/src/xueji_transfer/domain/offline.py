"""The offline-acceptance path (R23): opening it on a declared failure, the bureau's signed paper
consent, the school's acceptance, and reconciling with the system record when it arrives."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from xueji_contracts.messages.status_file import PaperRecord
from xueji_contracts.messages.transfer import Level, Stage
from xueji_transfer.domain import guards
from xueji_transfer.domain.commands import AcceptOffline, DeclareSystemFailure, RecordOfflineConsent
from xueji_transfer.domain.errors import OutsideJurisdiction, Refused
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.evidence import EvidenceKind
from xueji_transfer.domain.jurisdiction import acts_as, county_code
from xueji_transfer.domain.offline_events import (
    ConsentCause,
    OfflineAccepted,
    OfflineCause,
    OfflineConsentSigned,
    OfflinePathOpened,
    OfflineReconciled,
    RecordDifference,
)
from xueji_transfer.domain.state import OfflinePhase, TransferCase


def declare_system_failure(
    case: TransferCase | None, command: DeclareSystemFailure, now: datetime
) -> list[TransferEvent]:
    case = guards.running(case)
    receiving = case.application.receiving.code
    if not (acts_as(command.operator, Level.SCHOOL, receiving) or acts_as(command.operator, Level.COUNTY, receiving)):
        raise OutsideJurisdiction(
            "R23", "only the receiving school or its county bureau may declare it", field="operator"
        )
    if not command.guardian_requested:
        raise Refused(
            "R23", "offline handling on a system failure is at the guardian's request", field="guardian_requested"
        )
    if case.offline.phase is not OfflinePhase.NONE:
        raise Refused("R23", f"the offline path is already {case.offline.phase.value}")
    return [
        OfflinePathOpened(
            at=now, cause=OfflineCause.SYSTEM_FAILURE, declared_by=command.operator, note=command.description
        )
    ]


def record_consent(case: TransferCase | None, command: RecordOfflineConsent, now: datetime) -> list[TransferEvent]:
    case = guards.running(case)
    bureau = county_code(case.application.receiving.code)
    guards.party(command.operator, Level.COUNTY, bureau, rule="R23", role_name="the receiving county bureau")
    if case.offline.phase is not OfflinePhase.OPEN:
        raise Refused("R23", _not_open(case, "consent"))
    _not_arrived(case)
    if command.signed_form.kind is not EvidenceKind.SIGNED_REGISTRATION_FORM:
        raise Refused("R23", "consent is signed on the paper Registration Form", field="signed_form")
    text = (command.cause_text or "").strip() or None
    if command.cause is None:
        causes = ", ".join(c.value for c in ConsentCause)
        raise Refused("R23", f"the consent states its cause: one of {causes}", field="cause")
    if command.cause is ConsentCause.OTHER and text is None:
        raise Refused("R23", "a consent for another special reason writes the reason out", field="cause_text")
    signed = OfflineConsentSigned(
        at=now, signed_by=command.operator, form=command.signed_form, cause=command.cause, cause_text=text
    )
    return [signed]


def accept(case: TransferCase | None, command: AcceptOffline, now: datetime) -> list[TransferEvent]:
    case = guards.running(case)
    receiving = case.application.receiving.code
    guards.party(command.operator, Level.SCHOOL, receiving, rule="R23", role_name="the receiving school")
    if case.offline.phase is OfflinePhase.OPEN:
        raise Refused("R23", "the receiving bureau must first sign consent on the paper Registration Form")
    if case.offline.phase is not OfflinePhase.CONSENTED:
        raise Refused("R23", _not_open(case, "acceptance"))
    _not_arrived(case)
    student_id = case.application.student_id
    assert student_id is not None  # an application without a status is refused (R20)
    if case.application.interprovincial:
        _paper_record(command.record)
    return [
        OfflineAccepted(
            at=now,
            accepted_by=command.operator,
            student_id=student_id,
            receiving_school=receiving,
            record=command.record,
        )
    ]


def information_arrived(case: TransferCase) -> bool:
    """Whether the transfer information reached the receiving side: both sending parties verified (R21 steps 5-6).
    The offline path is for information that has not arrived (R23); once it has, the system path completes it."""
    return case.approved(Stage.SENDING_SCHOOL) and case.approved(Stage.SENDING_BUREAU)


def _not_arrived(case: TransferCase) -> None:
    if information_arrived(case):
        raise Refused("R23", "the transfer information has arrived (both sending parties verified): the receiving "
                             "school completes the transfer in the system, not offline")  # fmt: skip


def _paper_record(record: dict[str, str]) -> PaperRecord:
    """From another province the receiving registry has no record yet: it starts from the paper form (R34)."""
    try:
        return PaperRecord.model_validate(record)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in ("record", *error["loc"]))
        message = "required" if error["type"] == "missing" else str(error["msg"])
        detail = f"a student from another province: the paper form's {field} is {message}"
        raise Refused("R23", detail, field=field) from None


def reconcile(case: TransferCase, system_record: dict[str, str], now: datetime) -> list[TransferEvent]:
    """After an offline acceptance, the completed system path lists what differs; the system prevails."""
    if case.offline.phase is not OfflinePhase.ACCEPTED:
        return []
    offline = case.offline.record
    differences = tuple(
        RecordDifference(field=name, offline=offline.get(name), system=system_record.get(name))
        for name in sorted(offline.keys() | system_record.keys())
        if offline.get(name) != system_record.get(name)
    )
    return [OfflineReconciled(at=now, differences=differences, record=system_record)]


def _not_open(case: TransferCase, what: str) -> str:
    if case.offline.phase is OfflinePhase.NONE:
        return f"offline {what} needs the offline path open: 20 working days after step 4 or a declared failure"
    return f"the offline path is already {case.offline.phase.value}"
