"""Exceptions to "generally" rules the registry enforces (RULES "Exceptions"; R08, R40).

Where the Fujian measures say 一般 / "generally" / "in principle", the default refuses and names the rule; the
named authority may record an exception as its own event, and the change it allows then uses it (once). The
absolute parts take none: one suspension extension, of at most one year (002 III.8). A school never grants one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import Role
from xueji_registry.domain.event_base import RegistryEventBase
from xueji_registry.domain.evidence import EvidenceRef


class ExceptionClause(StrEnum):
    """Which default of a rule an exception sets aside."""

    GRADUATION_SEMESTER = "graduation_semester"  # R40: suspension in the graduation grade's last semester
    SUSPENSION_PERIOD = "suspension_period"  # R40: a period other than one academic year
    SECOND_REISSUE = "second_reissue"  # R08: a lost certificate reissued again after its one reissue


# The rule each clause belongs to, and who records it (002 III.8: the school's competent bureau verifies a
# suspension; III.14-15: the competent bureau audits and prints a reissued certificate; in this system both are
# the county bureau of the record's school).
RULE_OF = {
    ExceptionClause.GRADUATION_SEMESTER: "R40",
    ExceptionClause.SUSPENSION_PERIOD: "R40",
    ExceptionClause.SECOND_REISSUE: "R08",
}
AUTHORITY = {"R40": Role.COUNTY, "R08": Role.COUNTY}
AUTHORITY_WORDS = {"R40": "the school's county bureau", "R08": "the county bureau that prints reissues"}
# Absolute parts: named so that an attempt to except them is refused with the reason, not as an unknown clause.
ABSOLUTE = {
    "second_extension": ("R40", "a suspension is extended at most once"),
    "extension_length": ("R40", "an extension lasts at most one year"),
}


class ExceptionRecorded(RegistryEventBase):
    """The authority (by, at its code) set aside `clause` of `rule` for this student, for the written reason."""

    type: Literal["exception_recorded"] = "exception_recorded"
    exception_id: str = Field(min_length=1)
    rule: str = Field(pattern=r"^R\d{2}$")
    clause: ExceptionClause
    certificate_number: str | None = None  # R08: the certificate it concerns


class GrantedException(BaseModel):
    """An exception on the record; `used_by` names the change that relied on it (each is used once)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exception_id: str
    rule: str
    clause: ExceptionClause
    certificate_number: str | None = None
    authority: Role
    jurisdiction: str
    operator: str
    reason: str
    evidence: tuple[EvidenceRef, ...]
    recorded_at: datetime
    used_by: str | None = None


def available(
    granted: tuple[GrantedException, ...], clause: ExceptionClause, certificate_number: str | None = None
) -> GrantedException | None:
    """The first unused exception for `clause` (and the certificate, for R08), if any."""
    return next(
        (g for g in granted if g.clause is clause and g.used_by is None and g.certificate_number == certificate_number),
        None,
    )


def mark_used(granted: tuple[GrantedException, ...], ids: tuple[str, ...], by: str) -> tuple[GrantedException, ...]:
    return tuple(g.model_copy(update={"used_by": by}) if g.exception_id in ids else g for g in granted)
