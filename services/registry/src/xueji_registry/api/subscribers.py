"""R52: the route a registered subscriber system checks one student's current public status by, the status a
message on student.status.snapshot.v1 would give (a gap in its copy is repaired from here)."""

from __future__ import annotations

from functools import cache
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import ValidationError

from xueji_contracts.messages.status import StudentStatusSnapshot
from xueji_contracts.policy import load_policy
from xueji_contracts.policy.model import ProvincePolicy
from xueji_contracts.policy.subscribers import StatusSubscriber, registered
from xueji_kit.security import Subscriber
from xueji_registry.api.common import service_of
from xueji_registry.domain import from_documents
from xueji_registry.domain.public_changes import public_changes
from xueji_registry.domain.public_feed import snapshot_message

router = APIRouter(prefix="/v1/subscriber", tags=["status feed"])
log = structlog.get_logger("registry.subscriber")


@cache
def _policy(source: str) -> ProvincePolicy:
    return load_policy(source)


def status_subscribers(request: Request) -> tuple[StatusSubscriber, ...]:
    """The systems the province's policy registers, each with the bureau's written consent (R52)."""
    settings = service_of(request).settings
    return _policy(str(settings.policy_file or settings.province)).status_subscribers


def registered_subscriber(request: Request, claims: Subscriber) -> StatusSubscriber:
    """403 unless the token names a system the province's policy registers with its consent (R52)."""
    found = registered(status_subscribers(request), claims.subscriber)
    if found is None:
        reason = f"{claims.subscriber} is not a registered status subscriber (no written consent on record)"
        raise HTTPException(status.HTTP_403_FORBIDDEN, {"rule": "R52", "field": "subscriber", "reason": reason})
    return found


@router.get(
    "/students/{student_id}/status",
    summary="R52: one student's current public status, as on student.status.snapshot.v1 (registered subscribers)",
)
async def current_status(
    request: Request,
    subscriber: Annotated[StatusSubscriber, Depends(registered_subscriber)],
    student_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,80}$", description="the opaque id of the feed")],
) -> StudentStatusSnapshot:
    commits = await service_of(request).events.load(student_id)
    try:
        changes = public_changes(None, from_documents([e for c in commits for e in c["events"]]), 0)
    except (ValidationError, ValueError):
        changes = []  # not a student's stream (a roster, a deadline): no such student for a subscriber
    if not changes:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no student {student_id}")
    log.info("subscriber_status_read", subscriber=subscriber.name, student_id=student_id)
    return snapshot_message(changes[-1])
