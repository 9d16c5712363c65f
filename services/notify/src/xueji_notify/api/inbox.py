"""Notify HTTP routes: the inbox of the operator's jurisdiction (R50: role x jurisdiction on every route)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from xueji_kit.security import Operator, found_in_jurisdiction, require_jurisdiction
from xueji_kit.store import Document
from xueji_notify.api.common import notify_of
from xueji_notify.domain.calendar import due_day, local_day, working_days_left
from xueji_notify.domain.inbox_view import current as current_lines
from xueji_notify.domain.jurisdiction import node_of
from xueji_notify.domain.notification import Kind

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])
CURRENT_READS = 3000  # notices a to-do list is made from (newest first): a thing has up to five
NotificationId = Annotated[str, Path(min_length=1, max_length=64)]


def _public(doc: Document, read: bool, request: Request | None = None) -> Document:
    doc["notification_id"] = doc.pop("_id")
    doc.pop("scopes", None)
    doc["read"] = read
    due = doc.get("due_at")
    if request is not None and isinstance(due, datetime):
        # What a clerk plans by: working days to the due day (negative once late), on the province's calendar.
        calendar = notify_of(request).calendar.calendar
        today = local_day(datetime.now(UTC))
        doc["working_days_left"] = working_days_left(calendar, today, due_day(due.replace(tzinfo=due.tzinfo or UTC)))
    return doc


@router.get("", summary="Notifications in the operator's jurisdiction, newest first")
async def inbox(
    operator: Operator,
    request: Request,
    jurisdiction: Annotated[str | None, Query(pattern=r"^\d{6}(\d{4})?$", description="school or division")] = None,
    unread: Annotated[bool, Query(description="only those this operator has not read")] = False,
    kind: Kind | None = None,
    due_before: Annotated[datetime | None, Query(description="only tasks due before this time")] = None,
    current: Annotated[
        bool,
        Query(description="a to-do list: a line per stage, deadline or review, as its newest notice says"),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    scope = operator.prefix
    if jurisdiction is not None:
        require_jurisdiction(operator, jurisdiction)
        scope = node_of(jurisdiction)
    if due_before is not None and due_before.tzinfo is None:
        raise HTTPException(422, [{"field": "due_before", "reason": "needs a time zone, e.g. +08:00", "in": "query"}])
    store = notify_of(request).inbox
    docs = await store.query(
        scope, kind=kind.value if kind else None, due_before=due_before, unread_by=operator.sub if unread else None,
        limit=CURRENT_READS if current else limit,
    )  # fmt: skip
    if current:  # grouped over more notices than are shown: a thing's older notices would take up the page
        docs = [dict(d) for d in current_lines(docs, operator.code)][:limit]
    read = await store.read_by([d["_id"] for d in docs], operator.sub)
    return {
        "jurisdiction": jurisdiction or operator.code,
        "notifications": [_public(d, d["_id"] in read, request) for d in docs],
    }


async def _visible(request: Request, operator: Operator, notification_id: str) -> Document:
    doc = await notify_of(request).inbox.get(notification_id)
    return found_in_jurisdiction(operator, doc, "jurisdiction", f"no notification {notification_id}")


@router.get("/{notification_id}", summary="One notification")
async def notification(operator: Operator, request: Request, notification_id: NotificationId) -> Document:
    doc = await _visible(request, operator, notification_id)
    read = await notify_of(request).inbox.read_by([notification_id], operator.sub)
    return _public(doc, notification_id in read)


@router.post("/{notification_id}/read", summary="Mark read for this operator (idempotent)")
async def mark_read(operator: Operator, request: Request, notification_id: NotificationId) -> Document:
    doc = await _visible(request, operator, notification_id)
    await notify_of(request).mark_read(notification_id, operator.sub, datetime.now(UTC))
    return _public(doc, True)


@router.post("/{notification_id}/acknowledge", summary="Acknowledge for the jurisdiction: the first one stands")
async def acknowledge(operator: Operator, request: Request, notification_id: NotificationId) -> Document:
    await _visible(request, operator, notification_id)
    doc = await notify_of(request).acknowledge(notification_id, operator, datetime.now(UTC))
    assert doc is not None
    return _public(doc, True)
