"""The reference province's transfer rules for domain tests: Fujian's policy file, read as the service reads it.

The domain's own defaults are national (no reason list, no R27 timing clauses); every provincial value comes from
the province's policy file. The materials checklist (R30) is left out unless a test asks for it, so tests about
other rules need not record materials first.
"""

from __future__ import annotations

from typing import Any

from xueji_contracts.policy import load_policy
from xueji_transfer.domain import TransferRules

# Read once: the policy is frozen, and parsing its YAML for every command made the R21 property test (6,000
# commands) take 100 s of its 120 s timeout on a busy machine.
FUJIAN = load_policy("fj")


def fujian_rules(**overrides: Any) -> TransferRules:
    return TransferRules.from_policy(FUJIAN, **({"required_materials": ()} | overrides))
