"""The province-configurable values the registry domain reads (built from the province policy by the service)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xueji_registry.domain.periods import DEFAULT_GRADUATION_GRADE, SUSPENSION_MONTHS, Segment
from xueji_registry.domain.supplementary import FUJIAN, SupplementaryLayout


@dataclass(frozen=True)
class RegistryRules:
    layout: SupplementaryLayout = FUJIAN
    graduation_grades: Mapping[Segment, int] = field(default_factory=lambda: dict(DEFAULT_GRADUATION_GRADE))
    suspension_months: int = SUSPENSION_MONTHS  # R40: "generally" one academic year
    extension_months: int = SUSPENSION_MONTHS  # R40: an extension lasts at most this long (absolute)
    max_extensions: int = 1  # R40: absolute


DEFAULT_RULES = RegistryRules()
