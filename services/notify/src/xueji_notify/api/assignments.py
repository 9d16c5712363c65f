"""Who handles an open stage: an operator of the stage's jurisdiction (or of the level it was escalated to) takes it
with "assign to me"; the assignment persists, shows on the workbench's lists, and the latest one stands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status

from xueji_contracts.auth import OperatorClaims
from xueji_kit.security import Operator
from xueji_kit.store import Document
from xueji_notify.api.common import NodeQuery, node_asked, notify_of
from xueji_notify.domain.stages import is_open

router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"])
StageKey = Annotated[str, Path(max_length=200, description="transfer id and stage, e.g. tr_…:receiving_bureau")]


async def _open_stage(request: Request, operator: OperatorClaims, key: str) -> Document:
    """The stage, if the operator may handle it: its own jurisdiction's, or escalated to the operator's level."""
    stage = await notify_of(request).dashboard.stage(key)
    if stage is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no open stage {key}")
    handlers = [stage["node"], stage.get("escalated_to_node") or stage["node"]]
    if not any(node.startswith(operator.prefix) for node in handlers):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"R50: {key} is outside the jurisdiction {operator.code}")
    return stage


def _shown(doc: Document | None, key: str) -> dict[str, Any]:
    if doc is None:
        return {"key": key, "assignee": None}
    return {"key": key, **{k: doc.get(k) for k in ("assignee", "assignee_code", "assigned_at")}}


@router.put("/stages/{key}/assignee", summary="Assign the stage to me (the latest assignment stands)")
async def assign_to_me(operator: Operator, request: Request, key: StageKey) -> dict[str, Any]:
    stage = await _open_stage(request, operator, key)
    if not is_open(stage):  # a page left open while the stage was decided: taking it now would list a closed stage
        decided = f"{stage.get('decision') or 'decided'} at {stage.get('closed_at')}"
        raise HTTPException(status.HTTP_409_CONFLICT, f"the stage {key} is closed ({decided}): nothing to handle")
    return _shown(await notify_of(request).assign(key, stage["node"], operator, datetime.now(UTC)), key)


@router.delete("/stages/{key}/assignee", summary="Nobody handles the stage any more")
async def release(operator: Operator, request: Request, key: StageKey) -> dict[str, Any]:
    await _open_stage(request, operator, key)
    await notify_of(request).release(key)
    return _shown(None, key)


@router.get("/stages/{key}/assignee", summary="Who handles the stage")
async def assignee(operator: Operator, request: Request, key: StageKey) -> dict[str, Any]:
    await _open_stage(request, operator, key)
    return _shown(await notify_of(request).assignments.of(key), key)


@router.get("/assignees", summary="Assignments of the open stages under a node")
async def assignees(operator: Operator, request: Request, node: NodeQuery = None) -> dict[str, Any]:
    node = node_asked(operator, node)
    return {
        "node": node,
        "assignments": [_shown(d, d["_id"]) for d in await notify_of(request).assignments.under(node)],
    }
