"""The inbox as a to-do list (`GET /v1/inbox?current=true`): one line per thing to do, not one per notice about it.

A stage of a transfer case hears up to five notices (opened, deadline changed, warning, breached, decided), a
compliance deadline (R02, R54, ...) up to four (to do, due soon, overdue, done) and a suspected-duplicate review
(R14) as many (opened, due soon, overdue, decided). A clerk's to-do list shows each of them once, as its newest
notice says it is now, and not at all once that notice says it is done (a deadline met, a stage approved, a review
decided). An overdue deadline is filed to the school and flagged to its county at once: an operator who sees both is
shown the copy filed to their own jurisdiction (the one they mark read). Escalations (R22) stay one line each: each
is acknowledged on its own. Everything else (a record, a case's offline path) is a line of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from xueji_notify.domain.notification import Kind, Severity

# Notices about one stage of a case, as it moves on; an escalation is an action of its own and not among them.
STAGE_NOTICES = {Kind.STAGE_OPENED, Kind.STAGE_DEADLINE_CHANGED, Kind.STAGE_WARNING, Kind.STAGE_BREACHED,
                 Kind.STAGE_DECIDED}  # fmt: skip


def thing_of(notice: Mapping[str, Any]) -> str | None:
    """What a notice is about, when other notices can be about the same thing (None: a line of its own)."""
    details = notice.get("details") or {}
    kind = notice.get("kind")
    if kind == Kind.COMPLIANCE and details.get("deadline_id"):
        return f"deadline:{details['deadline_id']}"
    if kind in STAGE_NOTICES and details.get("stage"):
        return f"stage:{notice.get('subject_id')}:{details['stage']}"
    if kind == Kind.DEDUPE_REVIEW and details.get("case_id"):
        return f"review:{details['case_id']}"
    return None


def done(notice: Mapping[str, Any]) -> bool:
    """The newest notice of a thing says nothing is left to do: a deadline met, a stage approved, a review decided."""
    done_kinds = {Kind.COMPLIANCE, Kind.STAGE_DECIDED, Kind.DEDUPE_REVIEW}
    return notice.get("severity") == Severity.INFO and notice.get("kind") in done_kinds


def current(notices: Iterable[Mapping[str, Any]], own: str) -> list[Mapping[str, Any]]:
    """`notices` (newest first) as a to-do list, in the same order: the newest notice of each thing (of notices of the
    same moment, the one furthest on: a deadline met over its opening; then the copy filed to `own`, the operator's
    code), things done left out."""
    chosen: dict[str, Mapping[str, Any]] = {}
    order: list[str | Mapping[str, Any]] = []
    for notice in notices:
        thing = thing_of(notice)
        if thing is None:
            order.append(notice)
            continue
        before = chosen.get(thing)
        if before is None:
            order.append(thing)
        if before is None or _rank(notice, own) > _rank(before, own):
            chosen[thing] = notice
    lines = [chosen[item] if isinstance(item, str) else item for item in order]
    return [n for n in lines if thing_of(n) is None or not done(n)]


# How far on a thing a notice says it is, for notices of the same moment (stored times are to the millisecond).
_PROGRESS = {Kind.STAGE_OPENED: 0, Kind.STAGE_DEADLINE_CHANGED: 1, Kind.STAGE_WARNING: 2, Kind.STAGE_BREACHED: 3,
             "opened": 0, "due_soon": 2, "overdue": 3, "met": 4, "decided": 4}  # fmt: skip


def _rank(notice: Mapping[str, Any], own: str) -> tuple[datetime, int, bool]:
    created = notice.get("created_at")
    moment = created.replace(tzinfo=None) if isinstance(created, datetime) else datetime.min  # all UTC
    details = notice.get("details") or {}
    step = "decided" if "decision" in details else details.get("state") or notice.get("kind")
    return moment, _PROGRESS.get(str(step), 0), notice.get("jurisdiction") == own
