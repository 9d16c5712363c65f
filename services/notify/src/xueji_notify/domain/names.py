"""Schools named in titles: "<name>（<code>）" where the province's directory knows the school, else the code."""

from __future__ import annotations

from collections.abc import Mapping

SchoolNames = Mapping[str, str]  # school code -> name (the registry's directory file); empty: codes only
NO_NAMES: SchoolNames = {}


def named(code: str, names: SchoolNames) -> tuple[str, str]:
    """(zh, en) for a school or division code; the code stays beside the name so it can still be looked up."""
    name = names.get(code)
    return (f"{name}（{code}）", f"{name} ({code})") if name else (code, code)
