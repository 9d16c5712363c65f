"""The loop of a background job: a turn, a pause, again, until the service stops.

A turn that fails (the store or the broker away for a moment) is logged and the job goes on at the next turn; only
the job's cancellation (the service stopping) ends the loop. Used by every periodic job: the timer schedulers, the
dashboard's recount and change feed, the calendar refresh, the sampled gauges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def keep_running(
    turn: Callable[[], Awaitable[object]], *, every: float | Callable[[], float], log: Any, failed: str
) -> None:
    """Run `turn` again and again, pausing `every` seconds after each (a function: asked after each turn, for a job
    that chooses its own pause). A failed turn is logged as the event `failed` on `log`, with its error."""
    while True:
        try:
            await turn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(failed, error=str(exc))
        await asyncio.sleep(every() if callable(every) else every)
