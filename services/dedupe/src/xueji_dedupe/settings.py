"""Dedupe settings: the shared service settings plus the tier (province or national), feeds and thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from xueji_contracts.topics import (
    DEDUPE_CHECK,
    NATIONAL_CHECK,
    NATIONAL_IDENTITY,
    NATIONAL_VERDICT,
    REGISTRY_IDENTITY,
)
from xueji_kit.settings import ServiceSettings


class DedupeSettings(ServiceSettings):
    service_name: str = "dedupe"
    scope: Literal["province", "national"] = Field(
        default="province", description="national: the same code as the national tier over every province's index"
    )
    identity_topics: tuple[str, ...] = Field(
        default=(),
        description="identity feeds to index; default registry.identity.v1 (province) or "
        "dedupe.national.identity.v1 (national); e.g. the hub's mirrored fj.dedupe.national.identity.v1",
    )
    check_topics: tuple[str, ...] = Field(
        default=(), description="where checks arrive; default dedupe.check.v1 or dedupe.national.check.v1"
    )
    national_verdict_topics: tuple[str, ...] = Field(
        default=(NATIONAL_VERDICT.name,), description="province: where the national tier's answers arrive"
    )
    national_enabled: bool = Field(
        default=True, description="province: forward identities and G-number/key-info checks to the national tier"
    )
    identity_group: str = Field(
        default="dedupe.identity",
        description="consumer group persisting the identity feed; a new name replays it from the beginning",
    )
    scheduler_enabled: bool = Field(default=True, description="fire review-deadline timers on the wall clock")
    scheduler_interval_seconds: float = Field(default=1.0, gt=0, description="tick of the review-deadline timers")
    population_register_file: Path | None = Field(
        default=None, description="national: JSON or CSV records standing in for the population register"
    )

    @property
    def national(self) -> bool:
        return self.scope == "national"

    def served_province(self) -> str:
        """The national tier serves the nation: only the Ministry's operators act there (R50)."""
        return "" if self.national else self.province

    def identity_sources(self) -> tuple[str, ...]:
        default = NATIONAL_IDENTITY.name if self.national else REGISTRY_IDENTITY.name
        return self.identity_topics or (default,)

    def check_sources(self) -> tuple[str, ...]:
        return self.check_topics or ((NATIONAL_CHECK.name if self.national else DEDUPE_CHECK.name),)
