"""The province-configurable values the registry domain reads, built from the province policy file.

Without a policy (`RegistryRules()`) the national defaults apply and no supplementary number layout is set; the
service always builds its rules from the policy of XUEJI_PROVINCE (or XUEJI_POLICY_FILE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xueji_contracts.policy import ProvincePolicy, SupplementaryNumberFormat
from xueji_registry.domain.periods import (
    DEFAULT_GRADUATION_GRADE,
    ROSTER_MONTHS,
    STATUS_FILE_MONTHS,
    SUSPENSION_MONTHS,
    Segment,
)

MONTHS_A_YEAR = 12


@dataclass(frozen=True)
class RegistryRules:
    province: str | None = None  # the 2-digit code of the province whose policy these are
    layout: SupplementaryNumberFormat | None = None  # R07, R08: None where the province sets none
    graduation_grades: Mapping[Segment, int] = field(default_factory=lambda: dict(DEFAULT_GRADUATION_GRADE))
    suspension_months: int = SUSPENSION_MONTHS  # R40: "generally" one academic year
    extension_months: int = SUSPENSION_MONTHS  # R40: an extension lasts at most this long (absolute)
    max_extensions: int = 1  # R40: absolute
    status_file_months: int = STATUS_FILE_MONTHS  # R02
    roster_months: int = ROSTER_MONTHS  # R54

    @classmethod
    def from_policy(cls, policy: ProvincePolicy) -> RegistryRules:
        suspension = policy.suspension
        return cls(
            province=policy.code,
            layout=policy.supplementary_number,
            suspension_months=suspension.period_years * MONTHS_A_YEAR,
            extension_months=suspension.extension_years * MONTHS_A_YEAR,
            max_extensions=suspension.max_extensions,
            status_file_months=policy.deadlines.status_file_months,
            roster_months=policy.deadlines.roster_months,
        )


DEFAULT_RULES = RegistryRules()
