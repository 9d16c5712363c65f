"""Load -> decide -> save for transfer cases, then the SLA timers and inbox filings that follow from it."""

# After each save: the SLA timers armed or cancelled to match `armed_timers`, the case filed under every jurisdiction
# it newly asks something of, and a nudge to the outbox relay.

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages import transfer as contract
from xueji_kit.aggregates import Decision, StreamCache, decide_and_save, load_stream
from xueji_kit.commit_documents import commit_key
from xueji_kit.followed import FollowedHere
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document, replace_by_id
from xueji_kit.timers import Timer, TimerStore
from xueji_transfer import inbox
from xueji_transfer.calendar_source import CalendarSource
from xueji_transfer.decisions import to_command
from xueji_transfer.domain import (
    Command,
    DecideStage,
    FireTimer,
    RecomputeDeadlines,
    RecordStudentReported,
    TransferCase,
    TransferError,
    armed_timers,
    from_documents,
    handle,
    is_case_event,
    replay,
    to_documents,
)
from xueji_transfer.inbox_filings import InboxFilings
from xueji_transfer.outgoing import outgoing
from xueji_transfer.records import StudentRecords
from xueji_transfer.settings import TransferSettings

log = structlog.get_logger("transfer")
SWEPT = "calendar_sweeps"  # the calendar version open deadlines were last recomputed with
FOLDED = 5000  # cases kept folded, as many as the stream cache holds (StreamCache's size)
Clock = Callable[[], datetime]
# The stages whose approval asks the registry's record again: the receiving school initiating, the sending side.
ASKS_THE_RECORD = frozenset(
    {contract.Stage.RECEIVING_SCHOOL, contract.Stage.SENDING_SCHOOL, contract.Stage.SENDING_BUREAU}
)


class CaseRefused(ValueError):
    """The rules refused a command; carries the domain error and the case as it was (for a clear answer).
    A ValueError, so a refused message goes straight to the dead-letter topic with this reason."""

    def __init__(self, error: TransferError, case: TransferCase | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.case = case


def wall_clock() -> datetime:
    return datetime.now(UTC)


class TransferService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        settings: TransferSettings,
        calendars: CalendarSource,
        filings: InboxFilings,
        timers: TimerStore,
        records: StudentRecords | None = None,
    ) -> None:
        self.runtime = runtime
        self.records = records
        self.settings = settings
        self.events = runtime.events
        self.calendars = calendars
        self.filings = filings
        self.timers = timers
        self.province = settings.province
        self.clock: Clock = wall_clock  # tests set a fixed clock; production never does
        # The cases decided on here lately: a decision reads nothing from the store unless another replica moved the
        # case on (then its append conflicts and the case is reloaded).
        self.streams = StreamCache()
        # The commits settled here at once: the relay's follower (follow_ups.CommitFollower) skips them.
        self.here = FollowedHere()
        # Cases as folded from their streams, by id: (events folded, case); as many as the stream cache holds.
        self.folded: OrderedDict[str, tuple[int, TransferCase | None]] = OrderedDict()
        self._swept_for: str | None = None  # the calendar version this replica's open deadlines were recomputed with

    async def history(self, transfer_id: str) -> list[Document]:
        return await self.events.load(transfer_id)

    async def load(self, transfer_id: str) -> TransferCase | None:
        commits = await self.history(transfer_id)
        return replay(from_documents([e for c in commits for e in c["events"]]))

    async def current(self, transfer_id: str) -> TransferCase | None:
        """The case as this replica last decided on it (else as stored): for deciding, not for showing."""
        stream = await load_stream(self.events, transfer_id, self.streams)
        return self.fold(transfer_id, list(stream.history))

    def fold(self, transfer_id: str, history: list[Document]) -> TransferCase | None:
        """The case `history` (a stored stream, or a prefix of it) makes: replayed once per version, not once per
        question (who may act, then the decision). A stream only grows, so its first N events are the same whichever
        copy (cached or read afresh) they come from, and the case they make is kept by their count."""
        known = self.folded.get(transfer_id)
        if known is not None and known[0] == len(history):
            self.folded.move_to_end(transfer_id)
            return known[1]
        case = replay(from_documents(history))
        self._keep_folded(transfer_id, len(history), case)
        return case

    def _keep_folded(self, transfer_id: str, events: int, case: TransferCase | None) -> None:
        self.folded[transfer_id] = (events, case)
        self.folded.move_to_end(transfer_id)
        while len(self.folded) > FOLDED:
            self.folded.popitem(last=False)

    async def decide_submitted(self, message: Envelope[contract.DecisionSubmitted]) -> TransferCase:
        """A stage decided by another system or province (a DecisionSubmitted message), decided as one made over HTTP,
        once per message, at the time the sender made it rather than when it arrived (within bounds: decision_time)."""
        decision, commit_id = message.payload, str(derive_id(message.message_id, "decision"))
        command = to_command(decision, sent_at=message.occurred_at)
        return await self.execute(decision.transfer_id, command, commit_id, correlation_id=message.correlation_id)

    async def execute(
        self,
        transfer_id: str,
        command: Command,
        commit_id: str,
        *,
        at: datetime | None = None,
        correlation_id: uuid.UUID | None = None,
        firing: str | None = None,
        new: bool = False,
    ) -> TransferCase:
        """Decide `command` at `at` (default: now) and store what it decided once per `commit_id`.
        Raises CaseRefused naming the rule; then nothing is stored. `new`: the id was just made for a case that should
        not exist yet (nothing is read before the first commit is tried)."""
        now = at or self.clock()
        calendar, rules = self.calendars.deadlines, self.calendars.rules
        decided: dict[str, TransferCase | None] = {}
        command = await self.with_record(transfer_id, command)

        def decide(history: list[Document]) -> Decision:
            before = self.fold(transfer_id, history)
            try:
                after, events = handle(before, command, now, calendar, rules)
            except TransferError as error:
                raise CaseRefused(error, before) from error
            decided.update(before=before, after=after)
            folded[:] = [len(history) + len(events)]
            if not events or after is None:
                return Decision()
            out = outgoing(after, events, commit_id, self.province, correlation_id)
            # A commit that moves timers or the inbox has an outbox entry even when it publishes nothing, so the
            # relay's follower settles it if this process dies before it does (no entry, no extra write, otherwise).
            return Decision(to_documents(events), out, follow=self.moves_settle(before, after))

        folded: list[int] = []  # the events the stored stream holds after the decision
        saved = await decide_and_save(self.events, transfer_id, commit_id, decide, cache=self.streams, new=new)
        if not saved.stored:
            return await self.settle_again(transfer_id, commit_id, now, firing=firing)
        case, before = decided.get("after"), decided.get("before")
        self._keep_folded(transfer_id, folded[0], case)  # what the stored documents replay to (tested)
        assert case is not None  # decide refuses every command but the application on a case that does not exist
        # Told before settling: settle nudges the relay, whose follower must not redo this commit meanwhile. If
        # settling fails in a process that lives on, the commit is handed back to the follower.
        key = commit_key(transfer_id, saved.version)
        self.here.add([key])
        try:
            await self.settle(case, before, max(now, self.clock()), firing=firing)
        except BaseException:
            self.here.take(key)
            raise
        return case

    async def settle_again(
        self, transfer_id: str, commit_id: str, now: datetime, *, firing: str | None = None
    ) -> TransferCase:
        """A redelivery, or a retried request, of the stored commit `commit_id` (or a decision with nothing to record)
        settles from scratch: arm and file everything the case as stored needs (each a no-op when done already), and
        end the timers that commit ended, which heals a crash between save and settle (its timers would otherwise stay
        armed for a closed stage). Returns the case as it is now."""
        stream = await load_stream(self.events, transfer_id, self.streams)
        case = self.fold(transfer_id, list(stream.history))
        assert case is not None  # decide refuses every command but the application on a case that does not exist
        ended = await self.before_commit(transfer_id, commit_id) if commit_id in stream.commit_ids else None
        await self.settle(case, None, max(now, self.clock()), firing=firing, ended=ended)
        return case

    async def follow(self, transfer_id: str, versions: set[int]) -> None:
        """Settle what the stored commits `versions` of the case decided (the relay's follower, after a crash or
        for another replica): the timers each of them closed are cancelled, what the case as stored needs now is
        armed and filed. Idempotent, like the settle of a redelivery."""
        commits = await self.history(transfer_id)
        if not commits or not is_case_event(commits[0]["events"][0]):
            return  # not a case: an R27 exception's stream settles nothing
        so_far: list[Document] = []
        ended: list[TransferCase | None] = []
        for commit in commits:
            if int(commit["version"]) in versions:
                ended.append(replay(from_documents(so_far)))
            so_far += commit["events"]
        case = replay(from_documents(so_far))
        if case is None:
            return
        for before in ended or [None]:
            await self.settle(case, None, self.clock(), ended=before)

    def moves_settle(self, before: TransferCase | None, after: TransferCase) -> bool:
        """Whether settling `after` arms, cancels or files anything that settling `before` did not (pure)."""
        rules = self.calendars.rules
        timers = {t.timer_id for t in armed_timers(after, rules)}
        had = {t.timer_id for t in armed_timers(before, rules)} if before else set()
        asked = {t["code"] for t in inbox.todos(after, self.province)}
        asked_before = {t["code"] for t in inbox.todos(before, self.province)} if before else set()
        return timers != had or bool(asked - asked_before)

    async def before_commit(self, transfer_id: str, commit_id: str) -> TransferCase | None:
        """The case as it was before the stored commit `commit_id` (None if no such commit): read only on a
        redelivery, from the store (commit boundaries are not cached)."""
        commits = await self.history(transfer_id)
        at = next((i for i, c in enumerate(commits) if c.get("commit_id") == commit_id), None)
        return None if at is None else replay(from_documents([e for c in commits[:at] for e in c["events"]]))

    async def with_record(self, transfer_id: str, command: Command) -> Command:
        """The receiving school's initiation (step 3), the sending side's verifications (steps 5-6) and the report
        (step 8) carry the student's record as transfer knows it now, so a student the registry suspended, graduated
        or moved (another case completed) since the application goes no further (R21, R28). The receiving bureau
        (step 4) verifies the receiving side's conditions and does not read it: the sending school asks next."""
        if isinstance(command, DecideStage):
            asks = command.decision is contract.Decision.APPROVE and command.stage in ASKS_THE_RECORD
        else:
            asks = isinstance(command, RecordStudentReported)
        if not asks or self.records is None:
            return command
        case = await self.current(transfer_id)
        if case is None or case.application.student_id is None:
            return command
        return command.model_copy(update={"record": await self.records.find(case.application.student_id)})

    async def settle(
        self,
        case: TransferCase,
        before: TransferCase | None,
        now: datetime,
        *,
        firing: str | None = None,
        ended: TransferCase | None = None,
    ) -> None:
        """Timers and inbox to match the case: what `before` (or `ended`, on a redelivery) armed and `case` does not
        is cancelled, what `case` arms and `before` did not is armed, every jurisdiction it newly asks something of
        has it filed. All inserts and `_id` lookups; a repeated cancel or arm changes nothing. A timer already due (a
        backdated application, a late replica) fires here and now instead of waiting for a scheduler that has passed
        its minute."""
        rules = self.calendars.rules
        wanted = {t.timer_id: t for t in armed_timers(case, rules)}
        previous = {t.timer_id: t for t in armed_timers(before, rules)} if before else {}
        closing = {t.timer_id: t for t in armed_timers(before or ended, rules)} if before or ended else {}
        gone = [(timer_id, closing[timer_id].due_at) for timer_id in closing.keys() - wanted.keys() - {firing}]
        new = [
            Timer(timer_id, t.kind.value, case.transfer_id, t.due_at, {"stage": t.stage.value if t.stage else None})
            for timer_id, t in wanted.items()
            if timer_id not in previous
        ]
        asked_before = {t["code"] for t in inbox.todos(before, self.province)} if before else set()
        asked = {t["code"] for t in inbox.todos(case, self.province)} - asked_before
        self.runtime.relay.nudge()  # the commit is stored: its messages go out while timers and inbox are written
        # Independent inserts, so sent at once: the answer waits for the slowest, not for their sum.
        await asyncio.gather(self.timers.settle(cancelled=gone, armed=new), self.filings.file(case.transfer_id, asked))
        for t in sorted(wanted.values(), key=lambda t: t.due_at):
            if t.due_at <= now:
                await self._fire(case.transfer_id, t.timer_id, now)
                break  # firing settled the case again, including any timer due after this one

    async def fire(self, transfer_id: str, timer_id: str, now: datetime) -> None:
        """A due timer: warning, breach and escalation, offline path, paper file overdue. Idempotent.
        A case's timers fire in the order they fell due: when a scheduler comes to a timer while one of the case's
        that fell due earlier is still armed (a catch-up after an outage finds a warning and its breach both due and
        fires them at once, or the current minute first), the earlier one fires first, and its settle fires the rest
        in order. Otherwise the breach would end the stage's warning unpublished (R22)."""
        case = await self.current(transfer_id)
        armed = {t.timer_id: t for t in armed_timers(case, self.calendars.rules)}
        asked = armed.get(timer_id)
        earlier = min((t for t in armed.values() if t.due_at <= now), key=lambda t: t.due_at, default=None)
        if asked is not None and earlier is not None and earlier.due_at < asked.due_at:
            await self._fire(transfer_id, earlier.timer_id, now)
        await self._fire(transfer_id, timer_id, now)

    async def _fire(self, transfer_id: str, timer_id: str, now: datetime) -> None:
        commit_id = str(derive_id(timer_id, "fire"))
        await self.execute(transfer_id, FireTimer(timer_id=timer_id), commit_id, at=now, firing=timer_id)

    async def todos(self, transfer_id: str) -> list[dict[str, Any]]:
        """What the case asks of jurisdictions in this province right now."""
        case = await self.load(transfer_id)
        return [] if case is None else inbox.todos(case, self.province)

    async def recompute_after_calendar_change(self) -> None:
        """R31, however the notice came: loaded on another replica (seen here within a refresh), or in the policy or
        calendar file of a new deployment (seen at start). Once per calendar version this replica works with, and
        at start only when no replica recomputed with it yet; a stage this replica opened under the calendar before
        it refreshed is recomputed by its own sweep."""
        version = self.calendars.current.version
        if version == self._swept_for:
            return
        if self._swept_for is None:
            done = await self.runtime.db[SWEPT].find_one({"_id": "open_deadlines"})
            if done is not None and done.get("calendar") == version:
                self._swept_for = version
                return
        await self.recompute_open_deadlines(self.clock())

    async def recompute_open_deadlines(self, now: datetime) -> list[str]:
        """After a calendar notice is loaded: every case with an armed timer re-asks the calendar (R31).
        An administrative sweep, so it may read every armed timer."""
        version = self.calendars.current.version
        open_cases = sorted({doc["aggregate_id"] for doc in await self.timers.armed()})
        changed = []
        for transfer_id in open_cases:
            commit_id = str(derive_id(transfer_id, "recompute", version))
            before = await self.load(transfer_id)
            after = await self.execute(transfer_id, RecomputeDeadlines(), commit_id, at=now)
            if before is not None and after.version != before.version:
                changed.append(transfer_id)
        log.info("deadlines_recomputed", calendar=version, open_cases=len(open_cases), changed=len(changed))
        await replace_by_id(self.runtime.db[SWEPT], {"_id": "open_deadlines", "calendar": version})
        self._swept_for = version
        return changed
