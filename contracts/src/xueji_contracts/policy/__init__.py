"""Province policy: load a province's YAML file into a validated ProvincePolicy, and build its calendar.

Usage: `load_policy("fj")` or `load_policy("35")` (a packaged file), `load_policy(Path(...))` (e.g. the
xueji-policy ConfigMap), then `calendar_for(policy)` (national notices plus the policy's own).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from pydantic import ValidationError

from xueji_contracts.calendar import WorkingDayCalendar, national_calendar
from xueji_contracts.policy.complaints import ComplaintChannel, Complaints
from xueji_contracts.policy.materials import RequiredMaterial, TransferMaterials, WhenRequired
from xueji_contracts.policy.model import Deadlines, ProvincePolicy, StageSla, Suspension
from xueji_contracts.policy.numbers import NumberLayout, SchoolLevel, SupplementaryNumberFormat
from xueji_contracts.policy.reasons import SchoolingStage, TransferReason, TransferReasons
from xueji_contracts.policy.windows import ExcludedSemester, TransferTiming, TransferWindows, YearlyWindow


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and each bad field."""


def parse_policy(text: str, source: str = "<policy>") -> ProvincePolicy:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyError(f"{source}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise PolicyError(f"{source}: expected a mapping of policy fields at the top level")
    try:
        return ProvincePolicy.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in error.errors())
        raise PolicyError(f"{source}: {problems}") from error


def _packaged() -> dict[str, Traversable]:
    folder = files("xueji_contracts").joinpath("policies")
    return {item.name.removesuffix(".yaml"): item for item in folder.iterdir() if item.name.endswith(".yaml")}


def packaged_policies() -> tuple[str, ...]:
    """Names of the policy files shipped with contracts, e.g. ("fj", "hn")."""
    return tuple(sorted(_packaged()))


def load_policy(path_or_code: str | Path) -> ProvincePolicy:
    """A policy file by path, or a packaged one by name ("fj") or province code ("35")."""
    if isinstance(path_or_code, Path) or path_or_code.endswith((".yaml", ".yml")) or "/" in path_or_code:
        path = Path(path_or_code)
        return parse_policy(path.read_text(encoding="utf-8"), str(path))
    packaged = _packaged()
    if path_or_code in packaged:
        return parse_policy(packaged[path_or_code].read_text(encoding="utf-8"), f"{path_or_code}.yaml")
    for name in sorted(packaged):
        policy = load_policy(name)
        if policy.code == path_or_code:
            return policy
    if Path(path_or_code).is_file():  # a mounted file named without a suffix
        return load_policy(Path(path_or_code))
    raise PolicyError(f"no packaged policy {path_or_code!r}; have {', '.join(sorted(packaged))} or give a path")


def calendar_for(policy: ProvincePolicy, national: WorkingDayCalendar | None = None) -> WorkingDayCalendar:
    """The province's working-day calendar: national data, the policy's notices, then its adjustments.

    A notice in the policy replaces the national data for that year (it is the newer word, e.g. a
    ConfigMap carrying next year's notice before the package is regenerated).
    """
    calendar = national if national is not None else national_calendar()
    for year, days in sorted(policy.calendar_notices.items()):
        calendar = calendar.with_notice(
            year, days.rest_days, days.working_days, names=days.names, source=days.source or f"policy {policy.code}"
        )
    adjustments = policy.calendar_adjustments
    if adjustments.rest_days or adjustments.working_days:
        calendar = calendar.with_adjustment(policy.code, adjustments)
    return calendar


__all__ = [
    "ComplaintChannel",
    "Complaints",
    "Deadlines",
    "ExcludedSemester",
    "NumberLayout",
    "PolicyError",
    "ProvincePolicy",
    "RequiredMaterial",
    "SchoolLevel",
    "SchoolingStage",
    "StageSla",
    "SupplementaryNumberFormat",
    "Suspension",
    "TransferMaterials",
    "TransferReason",
    "TransferReasons",
    "TransferTiming",
    "TransferWindows",
    "WhenRequired",
    "YearlyWindow",
    "calendar_for",
    "load_policy",
    "packaged_policies",
    "parse_policy",
]
