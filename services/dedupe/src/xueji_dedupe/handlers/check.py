"""dedupe.check.v1 (national: dedupe.national.check.v1) -> one verdict per check, by correlation id (R01, R14)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import CheckRequested
from xueji_dedupe.answers import Checks


async def on_check(message: Envelope[CheckRequested], checks: Checks = Context("checks")) -> None:
    await checks.on_request(message)
