"""transfer.stage.v1 -> the stage on the dashboard, and a task (or a decision) for the right jurisdiction."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.transfer import StageClosed
from xueji_notify.domain import projection
from xueji_notify.domain.stages import stage_key
from xueji_notify.service import NotifyService


async def on_transfer_stage(
    message: Envelope[projection.StageMessage],
    notify: NotifyService = Context("notify"),
) -> None:
    p = message.payload
    # A decision is told to the school that started the case, which the stage's opening named.
    known = (
        await notify.dashboard.stage(stage_key(p.transfer_id, p.stage.value)) if isinstance(p, StageClosed) else None
    )
    await notify.project(projection.stage_message(message, known, notify.schools))
