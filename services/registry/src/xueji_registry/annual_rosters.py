"""R54 annual rosters as a stream per school and school year (`roster:{school}:{year}`): opened when the year's
first record of the school is created or arrives (the deadline is armed on the shared timers), submitted once by
the school, which meets the deadline. Overdue rosters are flagged to the county bureau by the compliance scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.registry import ComplianceState
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.followed import FollowedHere
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document
from xueji_registry.compliance import ComplianceDeadlines
from xueji_registry.domain.annual_roster import AnnualRoster
from xueji_registry.domain.annual_roster_stream import (
    AnnualRosterState,
    AnnualRosterSubmitted,
    decide_opening,
    decide_submission,
    from_documents,
    replay,
)
from xueji_registry.domain.compliance import Deadline, annual_roster
from xueji_registry.domain.event_base import to_document
from xueji_registry.domain.evidence import EvidenceRef
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.followed import followed_here


class AnnualRosters:
    """The R54 roster streams of the province's schools, opened and submitted against the compliance deadlines."""

    def __init__(
        self, runtime: ServiceRuntime, compliance: ComplianceDeadlines, rules: RegistryRules, here: FollowedHere
    ) -> None:
        self.runtime = runtime
        self.compliance = compliance
        self.rules = rules
        self.here = here
        self.opened: set[str] = set()  # annual rosters this process knows are open

    def deadline(self, school_code: str, school_year: int) -> Deadline:
        return annual_roster(school_code, school_year, self.rules.roster_months)

    async def state_of(self, subject_id: str) -> AnnualRosterState:
        return replay(from_documents(await self.runtime.events.events_of(subject_id)))

    async def ensure_open(self, school_code: str, school_year: int) -> None:
        """Open the school's rosters of the year once (idempotent across replicas; cached per process)."""
        deadline = self.deadline(school_code, school_year)
        if deadline.subject_id in self.opened:
            return
        now = datetime.now(UTC)
        message = self.compliance.message(deadline, ComplianceState.OPENED)

        def decide(history: list[Document]) -> Decision:
            opened = decide_opening(replay(from_documents(history)), deadline, school_year, now)
            return Decision([to_document(e) for e in opened], [message]) if opened else Decision()

        saved = await decide_and_save(self.runtime.events, deadline.subject_id, "opened", decide)
        # idempotent; after a crash before it, the relay's follower arms them (follow_ups)
        await self.compliance.arm(deadline)
        followed_here(self.here, [(deadline.subject_id, saved.version)])
        self.opened.add(deadline.subject_id)
        self.runtime.relay.nudge()

    async def submission_of(self, school_code: str, school_year: int) -> AnnualRosterSubmitted | None:
        return (await self.state_of(self.deadline(school_code, school_year).subject_id)).submission

    async def submit(
        self,
        operator: OperatorClaims,
        roster: AnnualRoster,
        reason: str,
        evidence: tuple[EvidenceRef, ...],
        commit_id: str,
    ) -> AnnualRosterSubmitted:
        """The school submits the rosters as composed now: their counts are kept; a second submission is refused. A
        `commit_id` stored before (the request retried with its key) submits nothing again: its submission answers."""
        compliance = self.compliance
        deadline = self.deadline(roster.school_code, roster.school_year)
        now = datetime.now(UTC)
        decided: list[AnnualRosterSubmitted] = []

        def decide(history: list[Document]) -> Decision:
            state = replay(from_documents(history))
            decided[:] = [decide_submission(state, roster, operator, reason, evidence, deadline, now)]
            return Decision([to_document(decided[0])], [compliance.message(deadline, ComplianceState.MET)])

        saved = await decide_and_save(self.runtime.events, deadline.subject_id, commit_id, decide)
        await compliance.disarm(deadline)
        followed_here(self.here, [(deadline.subject_id, saved.version)])
        self.runtime.relay.nudge()
        if not saved.stored:  # submitted before by this very request: its submission, as that commit stored it
            events = await self.runtime.events.events_until(deadline.subject_id, saved.version)
            stored = replay(from_documents(events)).submission
            assert stored is not None
            return stored
        return decided[0]
