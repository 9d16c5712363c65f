"""Notify HTTP routes: the inbox of the operator's jurisdiction."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from xueji_kit.security import Operator
from xueji_notify.store import InboxStore

router = APIRouter(prefix="/v1", tags=["inbox"])


@router.get("/inbox", summary="Notifications for the operator's jurisdiction, newest first")
async def inbox(operator: Operator, request: Request, limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    store: InboxStore = request.app.state.inbox
    docs = await store.for_jurisdiction(operator.prefix, limit)
    for doc in docs:
        doc["notification_id"] = doc.pop("_id")
    return {"jurisdiction": operator.code, "notifications": docs}
