"""The status state machine as data: per kind of change, its rule, allowed states, who initiates and verifies."""

from __future__ import annotations

from dataclasses import dataclass, field

from xueji_contracts.auth import Role
from xueji_contracts.messages.status import StatusState as S
from xueji_registry.domain.change_kinds import ChangeKind as K
from xueji_registry.domain.evidence import EvidenceKind as E
from xueji_registry.domain.periods import COMPULSORY, Segment

ALL_SEGMENTS = frozenset(Segment)
# Transfer eligibility (R28): everyone but a suspended student, who first resumes at the original school.
TRANSFERABLE = frozenset({S.ENROLLED, S.ABROAD, S.DROPPED_OUT, S.EXPELLED, S.LEFT})
# Information changes apply to a record still held in this province and about a living student.
INFO_STATES = frozenset(S) - {S.TRANSFERRED, S.DECEASED}


@dataclass(frozen=True)
class Transition:
    rule: str
    action: str  # what the error message says cannot be done
    from_states: frozenset[S]
    to_state: S | None  # None: the status stays what it is
    initiator: Role = Role.SCHOOL
    verifier: Role | None = Role.COUNTY  # None: the initiator's record takes effect at once
    all_of: tuple[E, ...] = ()
    one_of: tuple[E, ...] = ()
    segments: frozenset[Segment] = field(default=ALL_SEGMENTS)
    national_checks: bool = False  # after the county, the national duplicate check and identity comparison


TRANSITIONS: dict[K, Transition] = {
    K.CONFIRM_CREATION: Transition("R14", "confirm the creation", frozenset({S.PENDING_REVIEW}), S.ENROLLED),
    K.SUSPEND: Transition("R40", "suspend", frozenset({S.ENROLLED}), S.SUSPENDED, all_of=(E.SUSPENSION_APPLICATION,)),
    K.EXTEND_SUSPENSION: Transition(
        "R40", "extend the suspension", frozenset({S.SUSPENDED}), S.SUSPENDED, all_of=(E.WRITTEN_APPLICATION,)
    ),
    K.RESUME: Transition("R41", "resume", frozenset({S.SUSPENDED}), S.ENROLLED, all_of=(E.WRITTEN_APPLICATION,)),
    # 002 III.10: the school itself operates going abroad and the return; no bureau verification.
    K.GO_ABROAD: Transition(
        "R42",
        "record going abroad",
        frozenset({S.ENROLLED}),
        S.ABROAD,
        verifier=None,
        all_of=(E.ABROAD_APPLICATION,),
        one_of=(E.PASSPORT, E.TRAVEL_PASS, E.VISA),
    ),
    K.RETURN_FROM_ABROAD: Transition("R42", "return from abroad", frozenset({S.ABROAD}), S.ENROLLED, verifier=None),
    K.DROP_OUT: Transition(
        "R43",
        "drop out",
        frozenset({S.ENROLLED, S.SUSPENDED, S.ABROAD}),
        S.DROPPED_OUT,
        all_of=(E.DROPOUT_APPLICATION, E.SUPPORTING_DOCUMENT),
        segments=frozenset({Segment.SENIOR}),
    ),
    # R45 (002 III.13, IV.5(8)): every segment. Compulsory education: the school's written report takes effect at
    # once and the status is kept; senior high: the county bureau verifies (verifier_of) and the status is not kept.
    K.ABSENCE_DROPOUT: Transition(
        "R45",
        "count an absence as dropout",
        frozenset({S.ENROLLED}),
        S.DROPPED_OUT,
        verifier=None,
        all_of=(E.CONTACT_RECORD,),
    ),
    K.RESUME_AFTER_DROPOUT: Transition(
        "R43", "resume after dropout", frozenset({S.DROPPED_OUT}), S.ENROLLED, all_of=(E.WRITTEN_APPLICATION,)
    ),
    K.DEATH: Transition(
        "R44",
        "cancel the status for death",
        frozenset({S.ENROLLED, S.SUSPENDED, S.ABROAD, S.DROPPED_OUT}),
        S.DECEASED,
        all_of=(E.DEATH_CERTIFICATE,),
    ),
    K.GRADUATE: Transition("R46", "graduate", frozenset({S.ENROLLED}), S.GRADUATED),
    K.COMPLETE: Transition(
        "R46",
        "issue a completion certificate",
        frozenset({S.ENROLLED}),
        S.COMPLETED,
        verifier=None,
        all_of=(E.COMPLETION_ROSTER,),
        segments=frozenset({Segment.JUNIOR, Segment.SENIOR}),
    ),
    K.LEAVE: Transition(
        "R46",
        "issue a leaving certificate",
        frozenset({S.ENROLLED, S.DROPPED_OUT}),
        S.LEFT,
        verifier=None,
        segments=frozenset({Segment.SENIOR}),
    ),
    # R08 (002 III.15): a certificate stays the holder's whatever the record does next (a junior graduate now in
    # senior high, say); the precondition asks only that the record holds it.
    K.REISSUE_CERTIFICATE: Transition("R08", "reissue a certificate", frozenset(S), None, all_of=(E.LOSS_STATEMENT,)),
    K.BASIC_INFO: Transition(
        "R11",
        "change basic information",
        INFO_STATES,
        None,
        all_of=(E.GUARDIAN_REQUEST,),
        one_of=(E.HOUSEHOLD_REGISTER, E.RESIDENCE_PERMIT, E.SUPPORTING_DOCUMENT),
    ),
    K.KEY_INFO: Transition(
        "R10", "change key information", INFO_STATES, None, all_of=(E.HOUSEHOLD_REGISTER,), national_checks=True
    ),
    K.FORMAL_NUMBER: Transition(
        "R04", "change to a G number", INFO_STATES, None, all_of=(E.HOUSEHOLD_REGISTER,), national_checks=True
    ),
    K.REAPPLY_FORMAL_NUMBER: Transition(
        "R05",
        "change the G number by re-application",
        INFO_STATES,
        None,
        all_of=(E.WRITTEN_APPLICATION,),
        national_checks=True,
    ),
    K.DELETE_RECORD: Transition(
        "R13",
        "delete the record",
        frozenset(S),
        None,
        initiator=Role.PROVINCE,
        verifier=Role.MINISTRY,
        all_of=(E.PROVINCE_SUBMISSION,),
    ),
}


def verifier_of(kind: K, segment: Segment) -> Role | None:
    """Who verifies: a primary diploma is signed by the principal alone (002 III.14), a senior-high absence dropout
    by the county bureau (R45), others per the table."""
    if kind is K.GRADUATE and segment is Segment.PRIMARY:
        return None
    if kind is K.ABSENCE_DROPOUT and segment not in COMPULSORY:
        return Role.COUNTY  # R45: in senior high the school's county bureau verifies the dropout
    return TRANSITIONS[kind].verifier


def changes_status(kind: K) -> bool:
    return TRANSITIONS[kind].to_state is not None
