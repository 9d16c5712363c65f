"""R24, R30: the province's checklist of materials, recorded as evidence references before step 3."""

from __future__ import annotations

from collections.abc import Iterable

from xueji_contracts.policy import RequiredMaterial, WhenRequired
from xueji_transfer.domain.application_form import TransferApplication
from xueji_transfer.domain.errors import Refused
from xueji_transfer.domain.evidence import Evidence, EvidenceKind, has_kind


def applies(material: RequiredMaterial, application: TransferApplication) -> bool:
    if material.when is WhenRequired.REGISTER_UNCHANGED:
        return not application.household_register_changed
    if material.when is WhenRequired.EARLIER_STATUS_CHANGE:
        return application.earlier_status_changes
    return True


def check_before_initiating(
    application: TransferApplication, materials: Iterable[Evidence], checklist: Iterable[RequiredMaterial]
) -> None:
    """Every material the checklist asks of this application, and the certificate image, or Refused naming R30."""
    recorded = tuple(materials)
    missing = [m for m in checklist if applies(m, application) and not has_kind(recorded, EvidenceKind(m.kind))]
    if not has_kind(recorded, EvidenceKind.CERTIFICATE_IMAGE):
        raise Refused("R30", "initiating needs the image of the original transfer certificate", field="materials")
    if missing:
        names = "; ".join(f"{m.kind} ({m.en})" for m in missing)
        raise Refused("R30", f"before initiating, the application records the province's materials; missing: {names}",
                      field="materials")  # fmt: skip
