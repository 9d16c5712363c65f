"""The consistency checker: rebuilds the inboxes, the dashboard's stage, case and deadline projections, its counts per
jurisdiction node and the webhook deliveries due from the consumed topics, and names every place where what notify
stores (and serves) differs (issue 15; used by the crash tests and by operators after an incident).

Notify keeps no event stream of its own: its facts are the messages on the topics it consumes, so the caller hands
over those records (topic name without the deployment's prefix, value bytes) in each partition's order. The rebuild
runs the same pure decisions the consumers run (notes, projection changes) and the aggregator's own recount over an
in-memory copy, so it checks the stored state, not a second implementation of the rules. An administration tool,
not a request path."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts import topics
from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_contracts.messages.registry import ComplianceDeadlineChanged
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.messages.transfer import TransferCaseChanged
from xueji_kit.store import Document
from xueji_notify.aggregator import DashboardAggregator
from xueji_notify.domain import projection
from xueji_notify.domain.counts import HISTOGRAMS, SCALARS
from xueji_notify.domain.dedupe_notes import NOTES
from xueji_notify.domain.exception_notes import exception_recorded
from xueji_notify.domain.jurisdiction import ancestors
from xueji_notify.domain.notification import Notification
from xueji_notify.domain.registry_notes import compliance_changed
from xueji_notify.domain.stages import stage_key
from xueji_notify.domain.status_notes import status_recorded
from xueji_notify.domain.webhooks import receives
from xueji_notify.handlers.dedupe_review import deadline_row

CONSUMED = (topics.STUDENT_STATUS, topics.TRANSFER_STAGE, topics.TRANSFER_SLA, topics.TRANSFER_CASE,
            topics.DEDUPE_REVIEW, topics.REGISTRY_COMPLIANCE, topics.RULE_EXCEPTION)  # fmt: skip
TOPICS = tuple(spec.name for spec in CONSUMED)
# The stage fields the dashboard's states and counts are made of.
STAGE_FIELDS = ("node", "stage", "open", "due_at", "provisional", "warned_due_at", "breach_due_at",
                "escalated_to_node", "escalated_to_level", "escalation_count")  # fmt: skip
COUNT_FIELDS = (*SCALARS, *HISTOGRAMS)


@dataclass(frozen=True)
class Difference:
    projection: str  # inbox, dashboard_stages, dashboard_history, dashboard_cases, dashboard_compliance,
    # dashboard_counts, webhook_deliveries
    subject: str
    expected: Any
    found: Any


@dataclass
class Rebuilt:
    """What the topics say notify must hold; also the store the aggregator's recount reads and writes here."""

    notes: dict[str, Notification] = field(default_factory=dict)
    stages: dict[str, Document] = field(default_factory=dict)
    cases: dict[str, Document] = field(default_factory=dict)
    history: dict[str, Document] = field(default_factory=dict)
    deadlines: dict[str, Document] = field(default_factory=dict)
    nodes: dict[str, Document] = field(default_factory=dict)

    # The DashboardStore reads and writes DashboardAggregator.recount uses, over the rebuilt projections.
    async def breach_times_at(self, node: str) -> list[datetime]:
        return [h["at"] for h in self.history.values() if h["node"] == node and h["kind"] == "breached"]

    async def escalated_to(self, node: str) -> list[Document]:
        return [s for s in self.stages.values() if s.get("escalated_to_node") == node and s.get("open")]

    async def cases_at(self, node: str) -> list[Document]:
        return [c for c in self.cases.values() if c.get("node") == node]

    async def open_stages_at(self, node: str) -> list[Document]:
        return [s for s in self.stages.values() if s.get("node") == node and s.get("open")]

    async def children(self, node: str) -> list[Document]:
        return [n for n in self.nodes.values() if n.get("parent") == node]

    async def put_node(self, node: str, doc: Document) -> None:
        self.nodes[node] = {"_id": node, **doc}

    async def put_day(self, node: str, day: str, doc: Document) -> None:
        """The day's record is not checked (it is the same recount, kept per day)."""

    def apply(self, change: projection.Change, *, case: bool = False) -> None:
        if change.fields:
            target = self.cases if case else self.stages
            doc = target.setdefault(change.key, {"open": True} if change.insert_open else {})
            doc.update(change.fields)
        if change.history is not None:
            self.history.setdefault(change.history["_id"], change.history)
        self.send(change.notes)

    def send(self, notes: Iterable[Notification]) -> None:
        for note in notes:
            self.notes.setdefault(note.notification_id, note)


def rebuild(records: Iterable[tuple[str, bytes]]) -> Rebuilt:
    """Every consumed record, in each partition's order, through the consumers' own decisions. A record the
    consumers dead-letter or skip (not JSON, an unknown type, a payload that does not validate) is passed over."""
    rebuilt = Rebuilt()
    for topic, value in records:
        handle = _HANDLERS.get(topic)
        if handle is None:
            continue
        try:
            handle(rebuilt, json.loads(value))
        except (ValueError, ValidationError, KeyError):
            continue
    return rebuilt


def _student_status(rebuilt: Rebuilt, raw: Any) -> None:
    rebuilt.send(status_recorded(Envelope[StudentStatusRecorded].model_validate(raw)))


def _stage(rebuilt: Rebuilt, raw: Any) -> None:
    message: Envelope[Any] = Envelope[projection.StageMessage].model_validate(raw)
    p = message.payload
    known = rebuilt.stages.get(stage_key(p.transfer_id, p.stage.value))
    rebuilt.apply(projection.stage_message(message, known))


def _sla(rebuilt: Rebuilt, raw: Any) -> None:
    rebuilt.apply(projection.sla_message(Envelope[projection.SlaMessage].model_validate(raw)))


def _case(rebuilt: Rebuilt, raw: Any) -> None:
    rebuilt.apply(projection.case_message(Envelope[TransferCaseChanged].model_validate(raw)), case=True)


def _review(rebuilt: Rebuilt, raw: Any) -> None:
    if raw.get("type") not in NOTES:
        return  # requests between registry and dedupe share the topic; not notify's business
    model, notes = NOTES[raw["type"]]
    message: Envelope[Any] = Envelope[model].model_validate(raw)  # type: ignore[valid-type]
    rebuilt.send(notes(message))
    row = deadline_row(message.payload)
    if row is not None:
        rebuilt.deadlines.setdefault(message.payload.case_id, {}).update(row)


def _compliance(rebuilt: Rebuilt, raw: Any) -> None:
    message = Envelope[ComplianceDeadlineChanged].model_validate(raw)
    rebuilt.send(compliance_changed(message))
    p = message.payload
    rebuilt.deadlines.setdefault(p.deadline_id, {}).update({"state": p.state.value, "jurisdiction": p.jurisdiction,
                                                            "scopes": ancestors(p.jurisdiction)})  # fmt: skip


def _exception(rebuilt: Rebuilt, raw: Any) -> None:
    rebuilt.send(exception_recorded(Envelope[RuleExceptionRecorded].model_validate(raw)))


_HANDLERS: dict[str, Callable[[Rebuilt, Any], None]] = {
    topics.STUDENT_STATUS.name: _student_status, topics.TRANSFER_STAGE.name: _stage, topics.TRANSFER_SLA.name: _sla,
    topics.TRANSFER_CASE.name: _case, topics.DEDUPE_REVIEW.name: _review, topics.REGISTRY_COMPLIANCE.name: _compliance,
    topics.RULE_EXCEPTION.name: _exception,
}  # fmt: skip


async def differences(
    db: AsyncDatabase[Document], records: Iterable[tuple[str, bytes]], now: datetime | None = None
) -> list[Difference]:
    """Every difference between notify's store and what the records say it must hold (empty: consistent)."""
    rebuilt = rebuild(records)
    found = await _inbox(db, rebuilt)
    found += await _keyed(db, "dashboard_stages", rebuilt.stages, STAGE_FIELDS)
    found += await _keyed(db, "dashboard_cases", rebuilt.cases, ("node", "offline_opened_at",
                                                                  "offline_accepted_at", "reconciled_at"))  # fmt: skip
    found += await _keyed(db, "dashboard_compliance", rebuilt.deadlines, ("state", "jurisdiction"))
    found += await _history(db, rebuilt)
    found += await _counts(db, rebuilt, now or datetime.now(UTC))
    found += await _deliveries(db, rebuilt)
    return found


async def _inbox(db: AsyncDatabase[Document], rebuilt: Rebuilt) -> list[Difference]:
    stored = {d["_id"]: d async for d in db["notifications"].find({}, {"kind": 1, "jurisdiction": 1})}
    found = []
    for note_id, note in rebuilt.notes.items():
        expected = {"kind": note.kind.value, "jurisdiction": note.jurisdiction}
        doc = stored.pop(note_id, None)
        have = None if doc is None else {"kind": doc.get("kind"), "jurisdiction": doc.get("jurisdiction")}
        if have != expected:
            found.append(Difference("inbox", note_id, expected, have))
    return found + [Difference("inbox", note_id, None, doc) for note_id, doc in stored.items()]


def _comparable(value: Any) -> Any:
    """The store keeps milliseconds, in UTC."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


async def _keyed(
    db: AsyncDatabase[Document], collection: str, expected: Mapping[str, Document], names: tuple[str, ...]
) -> list[Difference]:
    stored = {d["_id"]: d async for d in db[collection].find({})}
    found = []
    for key, doc in expected.items():
        want = {n: _comparable(doc.get(n)) for n in names}
        have = stored.pop(key, None)
        got = None if have is None else {n: _comparable(have.get(n)) for n in names}
        if got != want:
            found.append(Difference(collection, key, want, got))
    return found + [Difference(collection, key, None, doc) for key, doc in stored.items()]


async def _history(db: AsyncDatabase[Document], rebuilt: Rebuilt) -> list[Difference]:
    stored = {d["_id"] async for d in db["dashboard_history"].find({}, {"_id": 1})}
    missing = [Difference("dashboard_history", h, "stored", None) for h in rebuilt.history if h not in stored]
    return missing + [Difference("dashboard_history", h, None, "stored") for h in stored - rebuilt.history.keys()]


async def _counts(db: AsyncDatabase[Document], rebuilt: Rebuilt, now: datetime) -> list[Difference]:
    """Each node's totals, recounted by the aggregator itself over the rebuilt projections."""
    touched = {s["node"] for s in rebuilt.stages.values()} | {c["node"] for c in rebuilt.cases.values()}
    touched |= {s["escalated_to_node"] for s in rebuilt.stages.values() if s.get("escalated_to_node")}
    touched |= {h["node"] for h in rebuilt.history.values()}
    recount = DashboardAggregator(rebuilt, None, None, province="-", interval=1, sweep_every=1)  # type: ignore[arg-type]
    await recount.recount(sorted(touched), now)
    stored = {d["_id"]: d async for d in db["dashboard_nodes"].find({})}
    found = []
    for node in sorted(rebuilt.nodes.keys() | stored.keys()):
        want = _totals(rebuilt.nodes.get(node))
        have = _totals(stored.get(node))
        if want != have:
            found.append(Difference("dashboard_counts", node, want, have))
    return found


def _totals(doc: Document | None) -> dict[str, Any]:
    """A node never counted holds nothing; empty histogram buckets are as good as absent ones."""
    total = (doc or {}).get("total") or {}
    counts = {name: total.get(name, 0) for name in SCALARS}
    counts |= {name: {k: v for k, v in (total.get(name) or {}).items() if v} for name in HISTOGRAMS}
    return counts


async def _deliveries(db: AsyncDatabase[Document], rebuilt: Rebuilt) -> list[Difference]:
    """Every notification a hook receives has its delivery (one id per notification and hook), settled: delivered,
    or failed after its last attempt. A hook receives what was sent after it was registered."""
    hooks = [h async for h in db["webhooks"].find({"active": True})]
    stored = {d["_id"]: d async for d in db["webhook_deliveries"].find({}, {"state": 1})}
    found = []
    for note in rebuilt.notes.values():
        for hook in hooks:
            if not receives(hook, note.kind.value, note.jurisdiction) or note.created_at < hook["created_at"]:
                continue
            delivery_id = str(derive_id(note.notification_id, hook["_id"], "webhook"))
            state = (stored.pop(delivery_id, None) or {}).get("state")
            if state not in ("delivered", "failed"):
                found.append(Difference("webhook_deliveries", delivery_id, "delivered or failed", state))
    return found
