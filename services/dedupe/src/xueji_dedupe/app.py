"""Dedupe wiring: settings built once, the index and its stored copy, consumers, routes.
Run: uvicorn xueji_dedupe.app:create_app --factory"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from xueji_contracts.messages.dedupe import (
    CheckRequested,
    IdentityChanged,
    IdentityRecorded,
    IdentityRemoved,
    VerdictGiven,
)
from xueji_contracts.messages.dedupe_review import ReviewCaseDeadline, ReviewCaseDecided, ReviewCaseOpened
from xueji_contracts.policy import load_policy
from xueji_contracts.policy.model import DuplicateCheck
from xueji_contracts.topics import (
    DEDUPE_CHECK,
    DEDUPE_REVIEW,
    DEDUPE_VERDICT,
    NATIONAL_CHECK,
    NATIONAL_IDENTITY,
    NATIONAL_VERDICT,
    REGISTRY_IDENTITY,
)
from xueji_dedupe.api import routers
from xueji_dedupe.candidate_store import CandidateStore
from xueji_dedupe.cases import ReviewCases
from xueji_dedupe.checks import Checks
from xueji_dedupe.deadlines import ReviewDeadlines
from xueji_dedupe.domain import MatchPolicy
from xueji_dedupe.handlers.check import decode_checks, on_checks
from xueji_dedupe.handlers.follow import follow_identities, raw_bodies
from xueji_dedupe.handlers.identity import decode_identities, on_identities
from xueji_dedupe.handlers.national_verdict import decode_national_verdicts, on_national_verdicts
from xueji_dedupe.index_keeper import IndexKeeper
from xueji_dedupe.register import NoRegister, register_from
from xueji_dedupe.reservations import Reservations
from xueji_dedupe.service import DedupeService
from xueji_dedupe.settings import DedupeSettings
from xueji_kit.runtime import Batch, ServiceRuntime
from xueji_kit.timers import TimerStore

BATCH = 500  # messages per batch of checks or identities: a bulk import's rows in a few store round trips


@dataclass(frozen=True)
class Dedupe:
    runtime: ServiceRuntime
    service: DedupeService


def match_policy(settings: DedupeSettings) -> MatchPolicy:
    """Weights and the review threshold from the province policy file (R14); the national tier without a file uses
    the defaults."""
    if settings.national and settings.policy_file is None:
        return DuplicateCheck()
    return load_policy(settings.policy_file or settings.province).duplicate_check


def wire(settings: DedupeSettings | None = None) -> Dedupe:
    settings = settings or DedupeSettings()
    runtime = ServiceRuntime(
        settings,
        title=f"xueji dedupe ({settings.scope})",
        description="One person, one number: exact and fuzzy duplicate detection, county review queue, national tier.",
    )
    keeper, candidates, cases = IndexKeeper(), CandidateStore(runtime.db), ReviewCases(runtime)
    policy = match_policy(settings)
    register = register_from(settings.population_register_file) if settings.national else NoRegister()
    # They end together: when this replica knows the record's fate, or after the same last-resort lapse.
    reservations = Reservations(runtime.db, timedelta(seconds=keeper.hold_seconds), settled=keeper.settled)
    deadlines = None
    if not settings.national:  # the county review cases are the province's (R14, R22)
        timers = TimerStore(runtime.db)
        interval = settings.scheduler_interval_seconds
        deadlines = ReviewDeadlines(runtime, timers, cases.project, interval_seconds=interval)
        runtime.startup_hooks += [timers.upgrade, cases.upgrade]
        if settings.scheduler_enabled:
            runtime.background.append(deadlines.run_forever)
    checks = Checks(runtime, keeper, policy, register, cases, reservations, deadlines)

    async def load_index() -> None:  # before the broker starts: checks never see a half-empty index
        await candidates.load_into(keeper)

    runtime.startup_hooks.append(load_index)
    service = DedupeService(runtime, keeper, candidates, checks)
    runtime.broker.context.set_global("dedupe", service)
    _subscribe(runtime, settings)
    _declare_publications(runtime, settings)
    return Dedupe(runtime, service)


def _subscribe(runtime: ServiceRuntime, settings: DedupeSettings) -> None:
    identity = NATIONAL_IDENTITY if settings.national else REGISTRY_IDENTITY
    runtime.consumes(
        identity, on_identities, group=settings.identity_group, batch=Batch(BATCH, decode_identities),
        topics=settings.identity_sources(), title="dedupe.identity",
        about="Stores the identity feed (the index's durable copy); a province forwards it to the national tier.",
    )  # fmt: skip
    runtime.consumes(
        identity, follow_identities, group=None, batch=Batch(1000, raw_bodies),
        topics=settings.identity_sources(), title="dedupe.identity.follow",
        about="Keeps this replica's in-memory index current (every partition, no group).",
    )  # fmt: skip
    # In batches, each check in turn against the index and the holds of those before it (R01).
    runtime.consumes(
        NATIONAL_CHECK if settings.national else DEDUPE_CHECK, on_checks, group="dedupe.check",
        batch=Batch(BATCH, decode_checks), topics=settings.check_sources(), title="dedupe.check",
        about="One verdict per check by correlation id; a possible duplicate opens a county review case.",
    )  # fmt: skip
    if not settings.national and settings.national_enabled:
        runtime.consumes(
            NATIONAL_VERDICT, on_national_verdicts, group="dedupe.national-verdict",
            batch=Batch(BATCH, decode_national_verdicts),
            topics=settings.national_verdict_topics, title="dedupe.national-verdict",
            about="The national tier's answers to forwarded checks (R03, R10).",
        )  # fmt: skip


def _declare_publications(runtime: ServiceRuntime, settings: DedupeSettings) -> None:
    if settings.national:
        runtime.publishes(NATIONAL_VERDICT, VerdictGiven)
        return
    runtime.publishes(DEDUPE_VERDICT, VerdictGiven)
    runtime.publishes(DEDUPE_REVIEW, ReviewCaseOpened | ReviewCaseDecided | ReviewCaseDeadline)  # type: ignore[arg-type]
    if settings.national_enabled:
        runtime.publishes(NATIONAL_CHECK, CheckRequested)
        # The province's identity feed as the registry wrote it (refusals stay in the province: nothing was forwarded
        # for them): a new identity, a changed one, one removed (R13, a record closed as a duplicate).
        runtime.publishes(NATIONAL_IDENTITY, IdentityRecorded | IdentityChanged | IdentityRemoved)  # type: ignore[arg-type]


def build_runtime(settings: DedupeSettings | None = None) -> ServiceRuntime:
    return wire(settings).runtime


def create_app(settings: DedupeSettings | None = None) -> FastAPI:
    dedupe = wire(settings)
    app = dedupe.runtime.http_app(routers)
    app.state.dedupe = dedupe.service
    app.state.deadlines = dedupe.service.deadlines  # tests drive time with .tick(now)
    return app
