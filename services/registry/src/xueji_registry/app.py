"""Registry wiring: settings built once, the runtime, consumers, routes.
Run: uvicorn xueji_registry.app:create_app --factory"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from xueji_contracts.messages.dedupe import (
    CheckRequested,
    IdentityChanged,
    IdentityRecorded,
    IdentityRefused,
    IdentityRemoved,
)
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_contracts.messages.registry import ComplianceDeadlineChanged
from xueji_contracts.messages.status import StudentStatusRecorded, StudentStatusSnapshot
from xueji_contracts.messages.status_file import StatusFileTransferred
from xueji_contracts.topics import (
    DEDUPE_CHECK,
    DEDUPE_REVIEW,
    DEDUPE_VERDICT,
    INTERPROVINCE_FILE,
    REGISTRY_COMPLIANCE,
    REGISTRY_ENROLLMENT,
    REGISTRY_IDENTITY,
    RULE_EXCEPTION,
    STUDENT_STATUS,
    STUDENT_STATUS_SNAPSHOT,
    TRANSFER_CASE,
    TopicSpec,
)
from xueji_kit.followed import FollowedHere
from xueji_kit.runtime import Batch, ServiceRuntime
from xueji_kit.timers import TimerStore
from xueji_registry.allocation import Sequences
from xueji_registry.annual_rosters import AnnualRosters
from xueji_registry.api import bulk, routers
from xueji_registry.compliance import ComplianceDeadlines
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.follow_ups import CommitFollower
from xueji_registry.handlers.enrollment_numbers import decode_requests, on_supplementary_requests
from xueji_registry.handlers.review import on_review
from xueji_registry.handlers.rule_exception import on_rule_exception
from xueji_registry.handlers.status_file import on_status_file
from xueji_registry.handlers.transfer_case import on_transfer_case
from xueji_registry.handlers.verdict import decode_verdicts, on_verdicts
from xueji_registry.identity_views import IdentityViews
from xueji_registry.numbers.certificate_floors import carry_over_held_numbers, carry_over_roster_places
from xueji_registry.numbers.supplementary import SupplementaryRequested, carry_over_school_scopes
from xueji_registry.province import load_province_policy
from xueji_registry.school_directory import SchoolDirectory
from xueji_registry.school_register import SchoolRegister
from xueji_registry.service import RegistryService
from xueji_registry.settings import RegistrySettings


def wire(settings: RegistrySettings | None = None) -> RegistryService:
    settings = settings or RegistrySettings()
    # The province policy first: a policy file with a mistake stops the start, naming the field and the reason.
    rules = RegistryRules.from_policy(load_province_policy(settings))
    runtime = ServiceRuntime(
        settings,
        title="xueji registry",
        description="Student status records: enrollment, numbers, lifecycle, permanent history.",
    )
    sequences = Sequences(runtime.db)
    register = SchoolRegister(runtime.db, runtime.events)
    views = IdentityViews(runtime.db)
    timers = TimerStore(runtime.db)

    compliance = ComplianceDeadlines(runtime, timers, interval_seconds=settings.scheduler_interval_seconds)
    rosters = AnnualRosters(runtime, compliance, rules, FollowedHere())
    service = RegistryService(
        runtime,
        settings,
        rules,
        sequences=sequences,
        register=register,
        identity_views=views,
        compliance=compliance,
        rosters=rosters,
    )
    runtime.broker.context.set_global("registry", service)  # handlers take it as Context("registry")
    runtime.startup_hooks += [
        sequences.ensure_indexes,
        lambda: carry_over_school_scopes(sequences, rules.layout),  # R07: no number an earlier version gave again
        lambda: carry_over_roster_places(sequences, runtime.events, rules.layout),  # R08: nor certificate number
        lambda: carry_over_held_numbers(sequences, runtime.events, rules.layout),  # one a record holds included
        register.ensure_indexes,
        register.rebuild_if_empty,
        views.ensure_indexes,
        timers.upgrade,
    ]
    if settings.scheduler_enabled:
        runtime.background.append(compliance.run_forever)
    runtime.publishes(REGISTRY_COMPLIANCE, ComplianceDeadlineChanged)
    # Every commit's follow-ups are also driven from the committed streams, so a crash never loses them.
    runtime.relay.followers.append(CommitFollower(service))
    runtime.publishes(STUDENT_STATUS, StudentStatusRecorded)
    runtime.publishes(STUDENT_STATUS_SNAPSHOT, StudentStatusSnapshot)
    runtime.publishes(DEDUPE_CHECK, CheckRequested)
    runtime.publishes(REGISTRY_IDENTITY, IdentityRecorded | IdentityChanged | IdentityRemoved | IdentityRefused)  # type: ignore[arg-type]
    runtime.publishes(REGISTRY_ENROLLMENT, SupplementaryRequested)
    # A class's verdicts arrive together: completed a batch at a time (numbers are won by unique inserts).
    runtime.consumes(
        DEDUPE_VERDICT, on_verdicts, group=f"registry.{DEDUPE_VERDICT.name}", batch=Batch(500, decode_verdicts),
        about="Completes pending enrollments (R01, R03, R07, R14).",
    )  # fmt: skip
    runtime.consumes(
        REGISTRY_ENROLLMENT, on_supplementary_requests, group=f"registry.{REGISTRY_ENROLLMENT.name}",
        batch=Batch(500, decode_requests), about="R07 numbers, one school per partition.",
    )  # fmt: skip
    runtime.publishes(RULE_EXCEPTION, RuleExceptionRecorded)
    plain: list[tuple[TopicSpec, Callable[..., Any], str]] = [
        (DEDUPE_REVIEW, on_review, "County review of a possible duplicate settles the record (R14)."),
        (TRANSFER_CASE, on_transfer_case, "Completed, offline-accepted or rolled-back transfers."),
        (RULE_EXCEPTION, on_rule_exception, "Exceptions to 'generally' rules for the R51 audit."),
    ]
    for spec, handler, about in plain:  # one consumer group per topic, named after it
        runtime.consumes(spec, handler, group=f"registry.{spec.name}", about=about)
    runtime.publishes(INTERPROVINCE_FILE, StatusFileTransferred)
    runtime.consumes(
        INTERPROVINCE_FILE, on_status_file, group=f"registry.{INTERPROVINCE_FILE.name}",
        topics=settings.interprovince_file_topics,
        about="Status files of students arriving from other provinces (R34).",
    )  # fmt: skip
    return service


def build_runtime(settings: RegistrySettings | None = None) -> ServiceRuntime:
    """The wired runtime (the AsyncAPI document is generated from its broker)."""
    return wire(settings).runtime


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    service = wire(settings)
    app = service.runtime.http_app(routers)
    app.state.registry = service
    app.state.school_directory = SchoolDirectory.load(service.settings.school_directory_file)
    app.state.compliance = service.compliance  # tests drive time with .tick(now)
    app.state.bulk_writing = asyncio.Semaphore(bulk.WRITING_AT_ONCE)  # class uploads writing at once
    app.state.bulk_parsing = asyncio.Semaphore(bulk.PARSING_AT_ONCE)  # and reading their sheets at once
    app.state.body_limits = {bulk.PATH: bulk.BODY_LIMIT}
    return app
