"""Status records in the event store: replay a student's stream, run a domain command, append what it decided."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from xueji_contracts.calendar.deadlines import local_date
from xueji_kit.aggregates import Decision, Saved, decide_and_save
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document, Outgoing
from xueji_registry import annual_rosters
from xueji_registry.compliance import deadlines_of
from xueji_registry.domain import Command, StudentStatus, from_documents, handle, replay, to_documents
from xueji_registry.domain.periods import school_year_of
from xueji_registry.domain.public_changes import PublicChange, public_changes, published_so_far
from xueji_registry.followed import followed_here
from xueji_registry.identity_feed import identity_messages
from xueji_registry.national_checks import check_requests
from xueji_registry.province import rules_of
from xueji_registry.rule_exceptions import exception_messages
from xueji_registry.school_register import register_of
from xueji_registry.status_feed import status_messages

Extra = Callable[[StudentStatus], list[Outgoing]]


async def load(runtime: ServiceRuntime, student_id: str) -> StudentStatus | None:
    commits = await runtime.events.load(student_id)
    return replay(from_documents([e for c in commits for e in c["events"]]))


async def execute(
    runtime: ServiceRuntime,
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
    decided: list[tuple[StudentStatus | None, StudentStatus]] = []

    def decide(history: list[Document]) -> Decision:
        past = from_documents(history)
        before = replay(past)
        after, events = handle(command, before, now, rules_of(runtime))
        if not events or after is None:
            return Decision()
        decided[:] = [(before, after)]
        changes = public_changes(before, events, published_so_far(past))
        outgoing = messages_of(runtime, before, after, changes, correlation_id)
        if extra is not None:
            outgoing += extra(after)
        # follow: the relay's follower sees every record commit, also one that publishes nothing (a move).
        return Decision(events=to_documents(events), outgoing=outgoing, follow=True)

    saved = await decide_and_save(runtime.events, student_id, commit_id, decide)
    if decided and saved.stored:
        await follow_changes(runtime, decided, now)
        followed_here(runtime, [(student_id, saved.version)])
    runtime.relay.nudge()
    return saved


def messages_of(
    runtime: ServiceRuntime,
    before: StudentStatus | None,
    after: StudentStatus,
    changes: list[PublicChange],
    correlation_id: uuid.UUID | None,
) -> list[Outgoing]:
    """What a change publishes in its own commit: compliance deadlines opened and met, each public change and the
    student's snapshot (R52), the identity feed for dedupe, questions for the national tier."""
    compliance = deadlines_of(runtime)
    outgoing: list[Outgoing] = compliance.messages(before, after) if compliance else []
    outgoing += status_messages(runtime, changes, correlation_id)
    outgoing += identity_messages(runtime.settings.province, before, after)
    outgoing += check_requests(runtime.settings.province, before, after)
    outgoing += exception_messages(runtime.settings.province, before, after)
    return outgoing


async def follow_changes(
    runtime: ServiceRuntime, changes: list[tuple[StudentStatus | None, StudentStatus]], now: datetime
) -> None:
    """After the commits, at once (idempotent, so also after a redelivery): the school register, compliance timers
    armed and cancelled, the annual rosters of a school a record joined (R54). The relay's follower does the same
    from the committed streams (follow_ups), so a crash before or during this delays them, never loses them."""
    started = [after for before, after in changes if before is None]
    joined = [after for before, after in changes if before is not None and before.school_code != after.school_code]
    # A name corrected under R10 is found by its new name (the register keeps the current one for the search).
    renamed = [a for b, a in changes if b is not None and a not in joined and b.identity.name != a.identity.name]
    if (register := register_of(runtime)) is not None:
        if started:
            await register.start_many(started)
        for after in joined + renamed:
            await register.record(after)
    compliance = deadlines_of(runtime)
    if compliance is None:
        return
    await compliance.follow_many(changes)
    for school in dict.fromkeys(after.school_code for after in started + joined):
        await annual_rosters.ensure_open(runtime, school, school_year_of(local_date(now)))


def history_entries(commits: list[Document]) -> list[dict[str, Any]]:
    """R12: every recorded change, in order, with who, when, why and the evidence."""
    return [{"version": c["version"], **e} for c in commits for e in c["events"]]


async def streams_under(runtime: ServiceRuntime, prefix: str) -> list[tuple[StudentStatus, list[Document]]]:
    """Every status record whose school lies under `prefix` now, replayed from its own stream: found through the
    school register (the audit, the G-number batch, graduation rosters), never a request path."""
    return [(s, e) for s, e in await _replayed(runtime, under=prefix) if s.school_code.startswith(prefix)]


async def streams_ever_at(runtime: ServiceRuntime, school: str) -> list[tuple[StudentStatus, list[Document]]]:
    """Every status record that has been at `school`, wherever it is now (the annual rosters' decreases)."""
    return await _replayed(runtime, school=school)


async def _replayed(
    runtime: ServiceRuntime, *, school: str | None = None, under: str | None = None
) -> list[tuple[StudentStatus, list[Document]]]:
    register = register_of(runtime)
    assert register is not None, "the registry runtime keeps the school register"
    found = []
    for events in await register.streams(school=school, under=under):
        state = replay(from_documents(events))
        if state is not None:
            found.append((state, events))
    return found


async def records_under(runtime: ServiceRuntime, prefix: str) -> list[StudentStatus]:
    return [state for state, _ in await streams_under(runtime, prefix)]
