"""Events of a two-phase change: the school's request, the verifier's decision, the national checks (and the county's
review of a suspected duplicate they found, R14)."""

from __future__ import annotations

from typing import Literal

from xueji_contracts.auth import Role
from xueji_registry.domain.change_kinds import ChangeKind
from xueji_registry.domain.event_base import CheckOutcome, RegistryEventBase
from xueji_registry.domain.record_changes import ChangeDetails


class ChangeRequested(RegistryEventBase):
    type: Literal["change_requested"] = "change_requested"
    change_id: str
    details: ChangeDetails
    verifier: Role


class ChangeApproved(RegistryEventBase):
    """The verifier agreed; a change that needs the national checks waits for them before it applies."""

    type: Literal["change_approved"] = "change_approved"
    change_id: str
    kind: ChangeKind
    awaiting_national_checks: bool = False


class ChangeRejected(RegistryEventBase):
    """The change ends without effect; `reason` says why (the verifier's words or the failed check)."""

    type: Literal["change_rejected"] = "change_rejected"
    change_id: str
    kind: ChangeKind


class NationalChecksRecorded(RegistryEventBase):
    type: Literal["national_checks_recorded"] = "national_checks_recorded"
    change_id: str
    duplicate_check: CheckOutcome
    identity_comparison: CheckOutcome


class DuplicateCheckReferred(RegistryEventBase):
    """R14: the duplicate check found a suspected duplicate; the change waits for the county's review of the case
    (never refused without it). `identity_comparison` is what the same answer said of the population register."""

    type: Literal["duplicate_check_referred"] = "duplicate_check_referred"
    change_id: str
    review_case_id: str
    tier: Literal["province", "national"]
    identity_comparison: CheckOutcome = CheckOutcome.NOT_RUN


class DuplicateReviewCleared(RegistryEventBase):
    """R14, R10: the county found the suspected duplicate a different person; a change that still needs the
    national tier (a G student's key information, a G number) is asked again there, naming the cleared case."""

    type: Literal["duplicate_review_cleared"] = "duplicate_review_cleared"
    change_id: str
    review_case_id: str
