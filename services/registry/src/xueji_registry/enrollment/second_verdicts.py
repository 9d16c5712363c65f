"""A second verdict on one enrollment request never undoes or contradicts the first (R01, R02, R14).

dedupe answers a creation check once, but its answer can come again under another message id, or the same one long
after: a dead letter replayed (the operations guide's replay), a topic restored, a check run again by an operator.
Whatever the first verdict decided stands:

- a record created on it stands: a duplicate, or a rule the creation breaks when judged again, refuses nothing (the
  request keeps no refusal a class sheet uploaded again would report) and tells dedupe nothing (its index keeps the
  person);
- a request refused on it stays refused: no record is created for it (the school corrects it with a new request that
  names it, R01/R50 `corrects`).

The county's review of a possible duplicate is not a second verdict: its decision comes on the review topic
(`handlers/review.py`), which closes the record and refuses the request itself (R14).

Each is said at warning, naming this verdict's message id and the commit the first one stored (its id derived from
that verdict's message id). Only the rare paths read for it: a duplicate verdict or a refusal reads whether the record
exists (one `_id` lookup), and a verdict whose request is read back from its pending stream reads the refusal beside
it; a verdict whose request this replica kept reads nothing more.
"""

from __future__ import annotations

import structlog

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import VerdictGiven
from xueji_kit.store import Document
from xueji_registry.service import RegistryService

log = structlog.get_logger("registry.intake")


async def record_stands(service: RegistryService, verdict: Envelope[VerdictGiven], student_id: str, rule: str) -> bool:
    """True when a record was created for the request on an earlier verdict: the refusal under `rule` this verdict
    would give is not recorded, nor told to dedupe (said at warning)."""
    first = await service.events.first(student_id)
    if first is None:
        return False
    log.warning("verdict_after_the_record", student_id=student_id, message_id=str(verdict.message_id),
                verdict=verdict.payload.verdict.value, refused_rule=rule, kept_commit_id=first.get("commit_id"),
                kept="the record an earlier verdict created; the request not refused, dedupe not told")  # fmt: skip
    return True


def refused_before(verdict: Envelope[VerdictGiven], student_id: str, refusal: Document | None) -> bool:
    """True when the request was refused already (`refusal`: its pending stream's version 2, None when there is none):
    this verdict creates no record (said at warning)."""
    if refusal is None:
        return False
    refused = refusal["events"][0]
    log.warning("verdict_after_the_refusal", student_id=student_id, message_id=str(verdict.message_id),
                verdict=verdict.payload.verdict.value, refused_rule=refused.get("rule"),
                kept_commit_id=refusal.get("commit_id"),
                kept="the request's refusal; no record created, a corrected request names it")  # fmt: skip
    return True
