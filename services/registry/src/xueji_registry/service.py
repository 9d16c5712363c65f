"""The registry's service: status records in the event store (replay a student's stream, run a domain command,
append what it decided, then its follow-ups) and the collaborators every route and handler reaches through it.

Built once by `app.wire`; routes find it at `request.app.state.registry`, handlers as `Context("registry")`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.division import Division
from xueji_kit.aggregates import Decision, Saved, decide_and_save
from xueji_kit.event_store import EventStore
from xueji_kit.followed import FollowedHere
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document
from xueji_registry.allocation import Sequences
from xueji_registry.annual_rosters import AnnualRosters
from xueji_registry.compliance import ComplianceDeadlines
from xueji_registry.domain import Command, StudentStatus, from_documents, handle, replay, to_documents
from xueji_registry.domain.annual_roster_stream import rosters_opened_by
from xueji_registry.domain.public_changes import PublicChange, public_changes, published_so_far
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.feeds.identity import identity_messages
from xueji_registry.feeds.status import status_messages
from xueji_registry.followed import Following, FollowUpsBehind, followed_here
from xueji_registry.identity_views import IdentityViews
from xueji_registry.national_checks import check_requests
from xueji_registry.recent_requests import RecentRequests
from xueji_registry.rule_exceptions import exception_messages
from xueji_registry.school_register import SchoolRegister
from xueji_registry.settings import RegistrySettings

Extra = Callable[[StudentStatus], list[Outgoing]]
Change = tuple[StudentStatus | None, StudentStatus]


@dataclass(frozen=True)
class Executed(Saved):
    """A command's commit, and the record as it left it when this call stored it (None: stored before, a retry)."""

    after: StudentStatus | None = None


class RegistryService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        settings: RegistrySettings,
        rules: RegistryRules,
        *,
        sequences: Sequences,
        register: SchoolRegister,
        identity_views: IdentityViews,
        compliance: ComplianceDeadlines,
        rosters: AnnualRosters,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.rules = rules  # the province policy's (province.load_province_policy)
        self.province = settings.province
        self.sequences = sequences  # R07 supplementary numbers, one unique insert per number
        self.register = register  # where each student is and has been (the batch reads start there)
        self.identity_views = identity_views  # who saw a full ID number (R52)
        self.compliance = compliance  # R02, R44, R45, R46, R54 deadlines on the shared timers
        self.rosters = rosters  # R54 annual rosters
        self.recent = RecentRequests()  # enrollments asked here lately: their verdicts need not read them back
        # The commits followed up here at once: the relay's follower (follow_ups.CommitFollower) skips them.
        self.here: FollowedHere = rosters.here
        self.following = Following()  # and those being followed up at once right now: the follower waits for them
        self.behind = FollowUpsBehind()  # a class's follow-ups, done while the next class is decided
        runtime.stopping_hooks.append(self.behind.stop)

    @property
    def events(self) -> EventStore:
        return self.runtime.events

    def followed(self, commits: list[tuple[str, int]]) -> None:
        followed_here(self.here, commits)

    async def load(self, student_id: str) -> StudentStatus | None:
        return replay(from_documents(await self.events.events_of(student_id)))

    async def execute(
        self,
        student_id: str,
        commit_id: str,
        command: Command,
        *,
        correlation_id: uuid.UUID | None = None,
        extra: Extra | None = None,
        now: datetime | None = None,
    ) -> Saved:
        """Decide `command` on the student's stream and append it; a status change publishes on student.status.v1.

        A domain error (RegistryError) propagates and nothing is stored.
        """
        now = now or datetime.now(UTC)  # tests pass the moment to live through years of a record
        decided: list[Change] = []

        def decide(history: list[Document]) -> Decision:
            past = from_documents(history)
            before = replay(past)
            after, events = handle(command, before, now, self.rules)
            if not events or after is None:
                return Decision()
            decided[:] = [(before, after)]
            changes = public_changes(before, events, published_so_far(past))
            outgoing = self.messages_of(before, after, changes, correlation_id)
            if extra is not None:
                outgoing += extra(after)
            # follow: the relay's follower sees every record commit, also one that publishes nothing (a move).
            return Decision(events=to_documents(events), outgoing=outgoing, follow=True)

        saved = await decide_and_save(self.events, student_id, commit_id, decide)
        if decided and saved.stored:
            await self.follow_changes(decided, now)
            self.followed([(student_id, saved.version)])
        self.runtime.relay.nudge()
        return Executed(saved.version, saved.stored, decided[-1][1] if decided and saved.stored else None)

    def messages_of(
        self,
        before: StudentStatus | None,
        after: StudentStatus,
        changes: list[PublicChange],
        correlation_id: uuid.UUID | None,
    ) -> list[Outgoing]:
        """What a change publishes in its own commit: compliance deadlines opened and met, each public change and the
        student's snapshot (R52), the identity feed for dedupe, questions for the national tier."""
        outgoing: list[Outgoing] = self.compliance.messages(before, after)
        outgoing += status_messages(self.runtime, changes, correlation_id)
        outgoing += identity_messages(self.province, before, after)
        outgoing += check_requests(self.province, before, after)
        outgoing += exception_messages(self.province, before, after)
        return outgoing

    async def follow_changes(self, changes: list[Change], now: datetime) -> None:
        """After the commits, at once (idempotent, so also after a redelivery): the school register, compliance timers
        armed and cancelled, the annual rosters of a school a record joined (R54). The relay's follower does the same
        from the committed streams (follow_ups), so a crash before or during this delays them, never loses them."""
        started = [after for before, after in changes if before is None]
        joined = [after for before, after in changes if before is not None and before.school_code != after.school_code]
        # A name corrected under R10 is found by its new name (the register keeps the current one for the search).
        renamed = [a for b, a in changes if b is not None and a not in joined and b.identity.name != a.identity.name]
        if started:
            await self.register.start_many(started)
        for after in joined + renamed:
            await self.register.record(after)
        await self.compliance.follow_many(changes)
        today = local_date(now)
        opened = [r for after in started for r in rosters_opened_by(after, True, today)]
        opened += [r for after in joined for r in rosters_opened_by(after, False, today)]
        for school, year in dict.fromkeys(opened):
            await self.rosters.ensure_open(school, year)

    async def streams_under(self, code: str) -> list[tuple[StudentStatus, list[Document]]]:
        """Every status record whose school lies in the division or school `code` now, replayed from its own stream:
        found through the school register (the audit, the G-number batch, graduation rosters), never a request path.
        A city's code is not a prefix of its schools' (350600 vs 3506020001): the division's prefix is (3506)."""
        prefix = Division.parse(code).prefix
        return [(s, e) for s, e in await self._replayed(under=prefix) if s.school_code.startswith(prefix)]

    async def streams_ever_at(self, school: str) -> list[tuple[StudentStatus, list[Document]]]:
        """Every status record that has been at `school`, wherever it is now (the annual rosters' decreases)."""
        return await self._replayed(school=school)

    async def _replayed(
        self, *, school: str | None = None, under: str | None = None
    ) -> list[tuple[StudentStatus, list[Document]]]:
        found = []
        for events in await self.register.streams(school=school, under=under):
            state = replay(from_documents(events))
            if state is not None:
                found.append((state, events))
        return found

    async def records_under(self, code: str) -> list[StudentStatus]:
        return [state for state, _ in await self.streams_under(code)]


def history_entries(commits: list[Document]) -> list[dict[str, Any]]:
    """R12: every recorded change, in order, with who, when, why and the evidence."""
    return [{"version": c["version"], **e} for c in commits for e in c["events"]]
