"""The domain under the reference province's policy (Fujian, fj.yaml), as the service runs it with XUEJI_PROVINCE=35:
the tests' `decide` and `handle` pass these rules, the service passes the rules of its own policy file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xueji_contracts.policy import load_policy
from xueji_registry.domain import StudentStatus
from xueji_registry.domain import decide as _decide
from xueji_registry.domain import handle as _handle
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.rules import RegistryRules

FUJIAN_RULES = RegistryRules.from_policy(load_policy("fj"))
FUJIAN_LAYOUT = FUJIAN_RULES.layout


def decide(
    command: Any, state: StudentStatus | None, now: datetime, rules: RegistryRules = FUJIAN_RULES
) -> list[RegistryEvent]:
    return _decide(command, state, now, rules)


def handle(
    command: Any, state: StudentStatus | None, now: datetime, rules: RegistryRules = FUJIAN_RULES
) -> tuple[StudentStatus | None, list[RegistryEvent]]:
    return _handle(command, state, now, rules)
