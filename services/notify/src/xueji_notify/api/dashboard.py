"""The SLA dashboard: the page, its JSON (from notify's own projections only) and live updates (SSE).

The page authenticates with the same operator JWT as every route, sent in the Authorization header,
the live stream included: the page reads it with fetch() and a stream reader rather than EventSource,
so no token ever travels in a URL (access logs, history) or a cookie (CSRF).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse
from sse_starlette.sse import EventSourceResponse

from xueji_contracts.auth import OperatorClaims
from xueji_kit.security import Operator
from xueji_notify.api.common import STATIC, NodeQuery, node_asked, notify_of
from xueji_notify.calendar_source import ProvinceCalendar
from xueji_notify.divisions import name_of
from xueji_notify.domain import board
from xueji_notify.domain.calendar import local_day
from xueji_notify.domain.counts import Counts
from xueji_notify.domain.jurisdiction import ancestors
from xueji_notify.domain.stages import view
from xueji_notify.store import DashboardStore

page = APIRouter(tags=["dashboard"])
router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"])
STATES = ("open", "warned", "breached")


@page.get("/dashboard", include_in_schema=False)
@page.get("/", include_in_schema=False)
async def dashboard_page() -> FileResponse:
    return FileResponse(STATIC / "dashboard.html", headers={"Cache-Control": "no-cache"})


def _store(request: Request) -> DashboardStore:
    return notify_of(request).dashboard


def _calendar(request: Request) -> ProvinceCalendar:
    return notify_of(request).calendar


def _path(operator: OperatorClaims, node: str) -> list[str]:
    return [step for step in ancestors(node) if step.startswith(operator.prefix)]


@router.get("/summary", summary="Counts for a node and each of its children, most urgent first")
async def summary(
    operator: Operator,
    request: Request,
    node: NodeQuery = None,
    within: Annotated[int | None, Query(ge=0, le=30, description="working days for 'due within'")] = None,
    day: Annotated[date | None, Query(description="a past day (China time): the counts as recorded at its end")] = None,
) -> dict[str, Any]:
    node = node_asked(operator, node)
    store, cal = _store(request), _calendar(request)
    today = local_day(datetime.now(UTC))
    if day is not None and day < today:
        return await _summary_of_day(request, operator, node, day, within)
    if day is not None and day > today:
        reason = f"a day up to today ({today.isoformat()})"
        raise HTTPException(422, [{"field": "day", "reason": reason, "in": "query"}])
    doc = await store.node(node) or {}
    children = {c["_id"]: Counts.from_doc(c.get("total")) for c in await store.children(node)}
    body = board.summary(
        node, Counts.from_doc(doc.get("total")), Counts.from_doc(doc.get("own")) if doc else None, children,
        calendar=cal.calendar, today=today, within=cal.warning_lead if within is None else within, names=name_of,
        path=_path(operator, node),
    )  # fmt: skip
    body["calendar"] = {"version": cal.version, "provisional": cal.is_provisional(today)}
    body["updated_at"] = doc.get("updated_at")
    return body


async def _summary_of_day(
    request: Request, operator: OperatorClaims, node: str, day: date, within: int | None
) -> dict[str, Any]:
    """The summary as the node's record of `day` has it: the same figures, seen from that day (due within, the 30
    days of breaches before it), with the children's records of the same day; one `_id` lookup each way."""
    store, cal = _store(request), _calendar(request)
    doc = await store.day_of(node, day.isoformat())
    if doc is None:  # not an error: the node had not been counted yet that day (or notify was not running)
        return {"node": node, "day": day.isoformat(), "recorded": False,
                "reason": f"no record of {node} on {day.isoformat()}: it was not counted that day"}  # fmt: skip
    kids = await store.days_of([c["_id"] for c in await store.children(node)], day.isoformat())
    body = board.summary(
        node, Counts.from_doc(doc.get("total")), Counts.from_doc(doc.get("own")),
        {child: Counts.from_doc(d.get("total")) for child, d in kids.items()}, calendar=cal.calendar, today=day,
        within=cal.warning_lead if within is None else within, names=name_of, path=_path(operator, node),
    )  # fmt: skip
    return body | {"day": day.isoformat(), "recorded": True, "calendar": {"version": cal.version},
                   "updated_at": doc.get("updated_at")}  # fmt: skip


@router.get("/stages", summary="Open stages under a node, most urgent first")
async def stages(
    operator: Operator,
    request: Request,
    node: NodeQuery = None,
    state: Annotated[str | None, Query(pattern="^(open|warned|breached|due_soon|provisional)$")] = None,
    stage: Annotated[str | None, Query(pattern="^(receiving|sending)_(school|bureau)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    node = node_asked(operator, node)
    cal = _calendar(request)
    today = local_day(datetime.now(UTC))
    views = [view(d, today, cal.calendar) for d in await _store(request).open_stages_under(node, 5000)]
    if state == "due_soon":
        views = [v for v in views if v.state != "breached" and 0 <= (v.working_days_left or 0) <= cal.warning_lead]
    elif state == "provisional":
        views = [v for v in views if v.provisional]
    elif state is not None:
        views = [v for v in views if v.state == state]
    if stage is not None:
        views = [v for v in views if v.stage == stage]
    views.sort(key=lambda v: v.urgency())
    return {"node": node, "count": len(views), "stages": [_stage_row(v.__dict__) for v in views[:limit]]}


def _stage_row(fields: dict[str, Any]) -> dict[str, Any]:
    fields["jurisdiction_name"] = name_of(fields["jurisdiction"]) if len(fields["jurisdiction"]) == 6 else None
    return fields


@router.get("/stages/{key}", summary="One stage with its history")
async def stage(operator: Operator, request: Request, key: Annotated[str, Path(max_length=200)]) -> dict[str, Any]:
    store = _store(request)
    doc = await store.stage(key)
    if doc is None or not str(doc["node"]).startswith(operator.prefix):  # outside: as if missing (R50)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no stage {key}")
    node_asked(operator, doc["node"])
    today = local_day(datetime.now(UTC))
    fields = _stage_row(view(doc, today, _calendar(request).calendar).__dict__)
    fields |= {
        k: doc.get(k) for k in ("student_id", "sending_school", "receiving_school", "warn_at", "calendar_version")
    }
    history = [{k: e.get(k) for k in ("kind", "at", "title_zh", "title_en")} for e in await store.history_of(key)]
    return fields | {"history": history}


@router.get("/offline", summary="Cases accepted offline and not yet reconciled (R23)")
async def offline(operator: Operator, request: Request, node: NodeQuery = None) -> dict[str, Any]:
    from xueji_notify.domain.cases import is_offline_pending

    node = node_asked(operator, node)
    cases = [c for c in await _store(request).offline_cases_under(node, 2000) if is_offline_pending(c)]
    keys = ("transfer_id", "case_number", "receiving_school", "sending_school", "offline_opened_at",
            "offline_accepted_at")  # fmt: skip
    return {"node": node, "cases": [{k: c.get(k) for k in keys} for c in cases]}


@router.get("/compliance", summary="Registry compliance deadlines under a node (R02, R44): open, due soon, overdue")
async def compliance(operator: Operator, request: Request, node: NodeQuery = None) -> dict[str, Any]:
    from xueji_notify.domain.compliance_board import compliance_board

    node = node_asked(operator, node)
    deadlines = await _store(request).deadlines_under(node, 20_000)
    return {"node": node, **compliance_board(deadlines, datetime.now(UTC))}


@router.get("/exceptions", summary="Exceptions to 'generally' rules (R08, R27, R40) recorded under a node")
async def exceptions(operator: Operator, request: Request, node: NodeQuery = None) -> dict[str, Any]:
    node = node_asked(operator, node)
    found = sorted(await _store(request).exceptions_under(node, 5000), key=lambda d: d["occurred_at"], reverse=True)
    keys = ("rule", "clause", "authority", "jurisdiction", "operator", "reason", "evidence", "occurred_at",
            "subject_kind", "subject_id", "school_code")  # fmt: skip
    by_rule: dict[str, int] = {}
    for doc in found:
        by_rule[doc["rule"]] = by_rule.get(doc["rule"], 0) + 1
    rows = [{"exception_id": d["_id"], **{k: d.get(k) for k in keys}} for d in found]
    return {"node": node, "total": len(rows), "by_rule": dict(sorted(by_rule.items())), "exceptions": rows}


@router.get(
    "/events",
    summary="Server-sent events: `changed` names the nodes whose counts changed",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "an endless event stream",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def events(operator: Operator, request: Request) -> EventSourceResponse:
    feed = notify_of(request).feed
    queue = feed.subscribe()
    mine = operator.prefix

    async def stream() -> Any:
        try:
            yield {"event": "hello", "data": json.dumps({"node": mine})}
            while True:
                try:
                    nodes = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    continue
                visible = [n for n in nodes if n.startswith(mine)]
                if visible:
                    yield {"event": "changed", "data": json.dumps({"nodes": visible})}
        finally:
            feed.unsubscribe(queue)

    return EventSourceResponse(stream(), ping=10, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
