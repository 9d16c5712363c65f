"""What the registry's HTTP tests share: an operator's Authorization header, an evidence reference as JSON,
an enrollment body, and an Idempotency-Key whose first answer was not kept."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from xueji_contracts.calendar import SHANGHAI, local_date
from xueji_kit.idempotency_claims import COLLECTION
from xueji_registry.domain.periods import term_of


def signed_in(school: str) -> Callable[..., dict[str, str]]:
    """`_as(token, role="school", code=school)`: the Authorization header of that operator, a school's by default."""

    def as_operator(token: Callable[[str, str], Any], role: str = "school", code: str = school) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(role, code)}"}

    return as_operator


def this_term() -> dict[str, int]:
    """The semester today falls in: R40 judges a suspension by the day it is asked, not by the term named."""
    return term_of(local_date(datetime.now(UTC))).model_dump(mode="json")


def today_in_china(margin: float = 10.0) -> date:
    """Today's China date, the one the service judges by when asked within `margin` seconds: midnight there (16:00
    UTC) is waited out when nearer, so a test's "today" and "tomorrow" are the service's too (an async test calls
    it in a thread)."""
    now = datetime.now(UTC)
    midnight = datetime.combine(local_date(now) + timedelta(days=1), datetime.min.time(), SHANGHAI)
    if (left := (midnight - now).total_seconds()) < margin:
        time.sleep(left + 0.1)
    return local_date(datetime.now(UTC))


def graduation_semester() -> dict[str, int]:
    """This school year's spring semester, the graduation grade's last: today, or still to come."""
    return {**this_term(), "term": 2}


def evidence_json(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://evidence/{kind}.pdf", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def pupil(school: str, name: str, born: str, grade: int, gender: str = "female", **more: Any) -> dict[str, Any]:
    """An enrollment request's body for a child without an ID number, enrolled in the 2026 school year."""
    return {"school_code": school, "name": name, "gender": gender, "birth_date": born, "grade": grade,
            "school_year": 2026, **more}  # fmt: skip


async def enrolled(registry: Any, headers: dict[str, str], body: dict[str, Any], *names: str) -> list[str]:
    """Enroll one student of `body` per name (dedupe answering at once) and give their ids; each must be 201."""
    ids = []
    for name in names:
        created = await registry.post("/v1/students", json={**body, "name": name}, headers=headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["student_id"])
    return ids


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def answer_not_kept(registry: Any, key: str) -> None:
    """The key's claim as a process that stopped after answering leaves it: running, its holder silent, no answer.
    A retry with the key then runs the route again (it is not replayed)."""
    claims = registry.app.state.runtime.db[COLLECTION]
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    updated = await claims.update_one(
        {"key": key}, {"$set": {"state": "running", "beat_at": long_ago}, "$unset": {"answer": ""}}
    )
    assert updated.matched_count == 1
