"""Registry test helpers: dedupe's answers as the stub gives them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind

Answer = Callable[[dict[str, Any]], VerdictGiven | None]


def verdict(kind: VerdictKind, existing: str | None = None, score: float = 0.0) -> Answer:
    """An answer of that kind to any check, as dedupe gives it."""

    def answer(check: dict[str, Any]) -> VerdictGiven:
        return VerdictGiven(
            verdict=kind,
            student_id=check["student_id"],
            score=score,
            existing_student_id=existing,
            reason_zh="测试答复",
            reason_en="test answer",
        )

    return answer


unique = verdict(VerdictKind.UNIQUE)
