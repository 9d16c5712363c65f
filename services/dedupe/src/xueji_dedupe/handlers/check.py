"""dedupe.check.v1 (national: dedupe.national.check.v1) -> one verdict per check, by correlation id (R01, R14).

Consumed in batches: a bulk import's checks are answered with a few store round trips per batch, not per check."""

from __future__ import annotations

from typing import Any

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import CheckRequested
from xueji_dedupe.answers import Checks
from xueji_kit.batches import parse_each

parse_check = Envelope[CheckRequested].model_validate_json


async def on_checks(records: list[Any], checks: Checks = Context("checks"), broker: Any = Context("broker")) -> None:
    await checks.on_requests(await parse_each(broker, records, parse_check))
