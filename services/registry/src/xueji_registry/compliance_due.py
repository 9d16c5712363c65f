"""Whether a compliance deadline is still unmet when its timer fires (R02, R44, R45, R54): read from the record or
roster it is about. Kept out of `compliance` because those modules arm deadlines through it; the app hands this
check to `ComplianceDeadlines`, so no import runs back."""

from __future__ import annotations

from xueji_registry import graduation_rosters
from xueji_registry.domain.compliance import Deadline, DeadlineKind, still_due
from xueji_registry.service import RegistryService


async def still_due_now(service: RegistryService, deadline: Deadline) -> bool:
    if deadline.kind is DeadlineKind.ANNUAL_ROSTER:
        return not await service.rosters.submitted(deadline.subject_id)
    if deadline.kind is DeadlineKind.GRADUATION_ROSTER:
        return await graduation_rosters.awaits_review(service, deadline.subject_id, deadline.occurrence)
    return still_due(deadline.kind, await service.load(deadline.subject_id))
