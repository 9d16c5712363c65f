"""dedupe.national.verdict.v1 -> the national tier's answer to a check this province forwarded (R03, R10).

Consumed in batches (the answers to a bulk import's forwarded checks arrive together): each answer in turn (kit
batches: a malformed one is dead-lettered alone; answering again is a no-op, the answer's commit id is derived)."""

from __future__ import annotations

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import VerdictGiven
from xueji_dedupe.service import DedupeService
from xueji_kit.batches import batch_handler, parsed

decode_national_verdicts = parsed(Envelope[VerdictGiven].model_validate_json)
on_national_verdicts = batch_handler(
    Envelope[VerdictGiven], "dedupe", DedupeService.record_national_answers, name="on_national_verdicts"
)
