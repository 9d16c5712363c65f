"""What the notify routes share: the service object, the static directory, the jurisdiction node a route is asked
about."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import HTTPException, Query, Request, status

from xueji_contracts.auth import OperatorClaims
from xueji_notify.domain.jurisdiction import is_node
from xueji_notify.service import NotifyService

STATIC = FilePath(__file__).parent.parent / "static"  # the package's static/, beside api/
NodeQuery = Annotated[str | None, Query(description="jurisdiction node: 35, 3506, 350602 or a school code")]


def notify_of(request: Request) -> NotifyService:
    notify: NotifyService = request.app.state.notify
    return notify


def node_asked(operator: OperatorClaims, node: str | None) -> str:
    """The node asked for, which must lie in the operator's jurisdiction (R50)."""
    node = operator.prefix if node is None else node
    if not is_node(node):
        raise HTTPException(422, [{"field": "node", "reason": "2, 4, 6 or 10 digits", "in": "query"}])
    if not node.startswith(operator.prefix):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{node} is outside the jurisdiction {operator.code}")
    return node
