"""dedupe.check.v1 (national: dedupe.national.check.v1) -> one verdict per check, by correlation id (R01, R14).

Consumed in batches: a bulk import's checks are answered with a few store round trips per batch, not per check."""

from __future__ import annotations

from typing import Any

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import CheckRequested
from xueji_dedupe.service import DedupeService
from xueji_kit.batches import handle_batch, parsed

decode_checks = parsed(Envelope[CheckRequested].model_validate_json)


async def on_checks(
    requests: list[Envelope[CheckRequested]],
    dedupe: DedupeService = Context("dedupe"),
    broker: Any = Context("broker"),
    message: Any = Context("message"),
) -> None:
    await handle_batch(broker, message, requests, dedupe.answer_checks)
