"""R02, R44, R45, R46, R54: a compliance deadline's own stream (`compliance:{deadline_id}`) as a typed aggregate:
the due-soon warning and the overdue flag raised when its timers fire while it is still unmet.

Stored events keep their shape. Their type names were `due_soon` and `overdue` until issue 17; they are read as
the PascalCase events they are now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from xueji_registry.domain.event_base import StreamEvent, StreamEvents

OLD_NAMES = {"due_soon": "DeadlineDueSoonFlagged", "overdue": "DeadlineOverdueFlagged"}
Phase = Literal["due_soon", "overdue"]  # the timer that fired: the warning before the deadline, the breach at it


class DeadlineDueSoonFlagged(StreamEvent):
    type: Literal["DeadlineDueSoonFlagged"] = "DeadlineDueSoonFlagged"
    deadline_id: str


class DeadlineOverdueFlagged(StreamEvent):
    type: Literal["DeadlineOverdueFlagged"] = "DeadlineOverdueFlagged"
    deadline_id: str


FlagEvent = Annotated[DeadlineDueSoonFlagged | DeadlineOverdueFlagged, Field(discriminator="type")]
_EVENTS = StreamEvents[FlagEvent](TypeAdapter(FlagEvent), OLD_NAMES)
from_documents = _EVENTS.from_documents


def decide_flag(
    history: Sequence[FlagEvent], phase: Phase, deadline_id: str, at: datetime, due_at: datetime | None = None
) -> list[FlagEvent]:
    """Warned once, on a stream with nothing in it yet and before the deadline (`due_at`): a deadline opened already
    past due (the year's R54 roster after 1 October) is flagged overdue, not first said to be due soon; flagged
    overdue each time a breach timer fires (each timer once: its firing is the commit)."""
    if phase == "due_soon":
        late = due_at is not None and at >= due_at
        return [] if history or late else [DeadlineDueSoonFlagged(deadline_id=deadline_id, at=at)]
    return [DeadlineOverdueFlagged(deadline_id=deadline_id, at=at)]
