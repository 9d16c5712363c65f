"""Province administration (R31): the calendar in use; loading a year's notice recomputes open deadlines."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from xueji_contracts.auth import Role
from xueji_kit.security import Operator, require_jurisdiction
from xueji_transfer.api.common import service_of
from xueji_transfer.calendar_source import CalendarNotice

router = APIRouter(prefix="/v1/admin/calendar", tags=["administration"])


def _calendar(request: Request) -> dict[str, Any]:
    calendar = service_of(request).calendars.current
    return {"calendar_version": calendar.version, "notice_years": list(calendar.notice_years)}


@router.get("", summary="The working-day calendar deadlines are computed with")
async def calendar(operator: Operator, request: Request) -> dict[str, Any]:
    return _calendar(request)


@router.post("/notices", summary="Load a year's holiday notice; every open deadline is recomputed (R31)")
async def load_notice(notice: CalendarNotice, operator: Operator, request: Request) -> dict[str, Any]:
    service = service_of(request)
    require_jurisdiction(operator, f"{service.province}0000", at_least=Role.PROVINCE)
    calendar = await service.calendars.load_notice(notice)
    changed = await service.recompute_open_deadlines(service.clock())
    # notify counts working days left with the same calendar: it hears of the notice on calendar.notice.v1 (R31); a
    # notice stored but not announced (this failed) is announced at the next start
    await request.app.state.calendar_notices.announce(notice, calendar, operator.sub, service.clock())
    return _calendar(request) | {"recomputed_cases": changed}
