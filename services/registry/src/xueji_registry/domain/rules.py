"""The province-configurable values the registry domain reads; Fujian and national defaults until policy is wired."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xueji_registry.domain.periods import DEFAULT_GRADUATION_GRADE, Segment
from xueji_registry.domain.supplementary import FUJIAN, SupplementaryLayout


@dataclass(frozen=True)
class RegistryRules:
    layout: SupplementaryLayout = FUJIAN
    graduation_grades: Mapping[Segment, int] = field(default_factory=lambda: dict(DEFAULT_GRADUATION_GRADE))


DEFAULT_RULES = RegistryRules()
