"""dedupe.check.v1 (national: dedupe.national.check.v1) -> one verdict per check, by correlation id (R01, R14).

Consumed in batches: a bulk import's checks are answered with a few store round trips per batch, not per check."""

from __future__ import annotations

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import CheckRequested
from xueji_dedupe.service import DedupeService
from xueji_kit.batches import batch_handler, parsed

decode_checks = parsed(Envelope[CheckRequested].model_validate_json)
on_checks = batch_handler(Envelope[CheckRequested], "dedupe", DedupeService.answer_checks, name="on_checks")
