"""Every follow-up of a registry commit, driven from the committed streams (issue 15, defect 1).

The relay hands this follower each outbox entry it published, before deleting it; the follower brings the school
register, the compliance timers (R02, R44, R45), the R54 annual rosters and the R46 review deadlines in line with
the commits the entry names, each from the stream as stored. The request paths do the same follow-ups at once, so
a read right after a write sees them, and say so (followed.followed_here): those commits are skipped here. After a
crash between a commit and its follow-ups the entry is still in the outbox, and the restarted relay follows it.
Every follow-up is idempotent: a commit followed twice (another replica's, a forgotten one) changes nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime

from xueji_contracts.calendar.deadlines import local_date
from xueji_kit.store import Document
from xueji_registry.domain import StudentStatus, annual_roster_stream, from_documents, graduation_review
from xueji_registry.domain.annual_roster_stream import AnnualRosterOpened, rosters_opened_by
from xueji_registry.domain.apply import apply
from xueji_registry.domain.compliance import annual_roster
from xueji_registry.domain.compliance import graduation_review as graduation_review_deadline
from xueji_registry.domain.graduation_review import (
    GraduationRosterApproved,
    GraduationRosterReturned,
    GraduationRosterSubmitted,
    RosterReview,
)
from xueji_registry.service import RegistryService

LOADING_AT_ONCE = 16
FOLLOWED = ("stu_", "roster:", "graduation:")  # the streams whose commits have follow-ups
Change = tuple[StudentStatus | None, StudentStatus]


class CommitFollower:
    def __init__(self, service: RegistryService) -> None:
        self.events = service.events
        self.register = service.register
        self.compliance = service.compliance
        self.rosters = service.rosters
        self.rules = service.rules
        self.here = service.here
        self.following = service.following

    async def __call__(self, entries: list[Document]) -> None:
        keys = [str(key) for entry in entries for key in entry.get("committed", [])]
        # Only the streams that have follow-ups are read (not an enrollment request's, say); and a commit this process
        # is following up at once right now (a class's records) is waited for, then skipped, not read and done twice.
        keys = [key for key in keys if key.startswith(FOLLOWED)]
        await self.following.finished(keys)
        versions: dict[str, set[int]] = defaultdict(set)
        for key in keys:
            if not self.here.take(key):
                aggregate, _, version = key.rpartition("@")
                versions[aggregate].add(int(version))
        gate = asyncio.Semaphore(LOADING_AT_ONCE)

        async def load(aggregate: str) -> list[Document]:
            async with gate:
                return await self.events.load(aggregate)

        names = list(versions)
        streams = dict(zip(names, await asyncio.gather(*(load(a) for a in names)), strict=True))
        await self._students({a: (c, versions[a]) for a, c in streams.items() if a.startswith("stu_")})
        for aggregate, commits in streams.items():
            if aggregate.startswith("roster:"):
                await self._annual_roster(commits, versions[aggregate])
            elif aggregate.startswith("graduation:"):
                await self._graduation_roster(aggregate, commits, versions[aggregate])

    async def _students(self, streams: dict[str, tuple[list[Document], set[int]]]) -> None:
        """The register lists each record where its stream says it is and has been; the timers of the deadlines
        the commits opened are armed and of those they met cancelled; a school a record joined has its rosters."""
        settled: list[tuple[StudentStatus, list[str]]] = []
        changes: list[Change] = []
        rosters: set[tuple[str, int]] = set()
        for commits, followed in streams.values():
            state: StudentStatus | None = None
            schools: list[str] = []
            for commit in commits:
                before = state
                for event in from_documents(commit["events"]):
                    state = apply(state, event)
                if state is None:
                    continue
                if state.school_code not in schools:
                    schools.append(state.school_code)
                if int(commit["version"]) in followed:
                    changes.append((before, state))
                    if before is None or before.school_code != state.school_code:
                        rosters.update(rosters_opened_by(state, before is None, local_date(_at(commit))))
            if state is not None:
                settled.append((state, schools))
        await self.register.settle_many(settled)
        await self.compliance.follow_many(changes)
        for school, year in sorted(rosters):
            await self.rosters.ensure_open(school, year)

    async def _annual_roster(self, commits: list[Document], followed: set[int]) -> None:
        for commit in commits:
            if int(commit["version"]) not in followed:
                continue
            for event in annual_roster_stream.from_documents(commit["events"]):
                months = self.rules.roster_months  # R54: the province policy's
                deadline = annual_roster(event.school_code, event.school_year, months)
                if isinstance(event, AnnualRosterOpened):
                    await self.compliance.arm(deadline)
                else:
                    await self.compliance.disarm(deadline)

    async def _graduation_roster(self, stream: str, commits: list[Document], followed: set[int]) -> None:
        """R46: each submission opens its review deadline; the review (approved or returned) meets it."""
        roster = RosterReview()
        for commit in commits:
            for event in graduation_review.from_documents(commit["events"]):
                roster = graduation_review.apply(roster, event)
                if roster.submission is None or int(commit["version"]) not in followed:
                    continue
                submitted = roster.submission.roster
                deadline = graduation_review_deadline(
                    stream, submitted.school_code, submitted.graduation_year, roster.submissions
                )
                if isinstance(event, GraduationRosterSubmitted):
                    await self.compliance.arm(deadline)
                elif isinstance(event, GraduationRosterApproved | GraduationRosterReturned):
                    await self.compliance.disarm(deadline)


def _at(commit: Document) -> datetime:
    at: datetime = commit["recorded_at"]
    return at
