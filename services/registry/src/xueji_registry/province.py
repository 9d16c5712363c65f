"""The province policy the registry runs under: loaded once at start from XUEJI_POLICY_FILE, or the packaged file of
XUEJI_PROVINCE, and validated (a mistake stops the start with the field and the reason); the domain's rules are
built from it, so no province's numbers, layouts or periods live in the service's code."""

from __future__ import annotations

import structlog

from xueji_contracts.policy import PolicyError, ProvincePolicy, load_policy
from xueji_kit.settings import ServiceSettings


def load_province_policy(settings: ServiceSettings) -> ProvincePolicy:
    policy = load_policy(settings.policy_file or settings.province)
    if policy.code != settings.province:
        source = settings.policy_file or settings.province
        raise PolicyError(
            f"{source}: code: the policy is province {policy.code}, XUEJI_PROVINCE is {settings.province}"
        )
    if unset := policy.unset_provincial_rules():  # said once at start: nothing is refused or numbered under these
        structlog.get_logger("registry.province").warning(
            "policy_provincial_rules_unset", province=policy.code, unset=list(unset)
        )
    return policy
