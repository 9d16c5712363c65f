"""Evidence references (R30): what a document is, where it lives and its content hash; never the document."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from xueji_transfer.domain.errors import Refused


class EvidenceKind(StrEnum):
    # The guardian's signed application, Fujian Annex 4 (002 III.5.1), 003 Q11's statement of reason: a material
    # the guardian brings, never a paper approval form (R24).
    REGISTRATION_FORM = "registration_form"
    STATUS_BASIC_INFO = "status_basic_info"  # basic status information sheet (III.5.2, 003 Q11)
    HOUSEHOLD_REGISTER = "household_register"  # household register / residence certificate (III.5.3)
    REASON_PROOF = "reason_proof"  # proof of the reason, e.g. the guardian's signed statement (III.5.4)
    STATUS_CHANGE_PROOF = "status_change_proof"  # repetition, suspension and the like (III.5.5)
    CERTIFICATE_IMAGE = "certificate_image"  # photo of the original transfer certificate (III.6.3)
    SIGNED_REGISTRATION_FORM = "signed_registration_form"  # receiving bureau's paper consent (R23)
    PAPER_APPROVAL_FORM = "paper_approval_form"  # never required outside the offline path (R24)
    ELECTRONIC_FILE = "electronic_file"  # the electronic status file pulled at step 8
    OTHER = "other"


# R24: forms that collect a school's or bureau's approval or seal, asked of guardians only on the offline path.
# The receiving bureau's signed Registration Form is its paper consent (R23), so it is one of them.
APPROVAL_FORMS = frozenset({EvidenceKind.SIGNED_REGISTRATION_FORM, EvidenceKind.PAPER_APPROVAL_FORM})


def check_no_approval_form(requested: Iterable[EvidenceKind], offline: bool) -> None:
    """R24: a stage returning a case may not ask the guardian for an approval form, unless on the offline path."""
    forms = [kind.value for kind in requested if kind in APPROVAL_FORMS]
    if forms and not offline:
        why = f"no paper approval form ({', '.join(forms)}) may be asked for outside the offline path"
        raise Refused("R24", why, field="requested")


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EvidenceKind
    uri: str = Field(min_length=1, max_length=2000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex SHA-256 of the content")


def has_kind(evidence: Iterable[Evidence], kind: EvidenceKind) -> bool:
    return any(e.kind is kind for e in evidence)
