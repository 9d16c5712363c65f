"""Names of administrative divisions for the dashboard, from python-stdnum's table of region codes."""

from __future__ import annotations

import re
from functools import cache

from stdnum import numdb

from xueji_notify.domain.jurisdiction import division_code

_SINCE = re.compile(r"^\[[^\]]*\]")


@cache
def name_of(node: str) -> str | None:
    """ "3506" -> "漳州市"; None for schools (their names live in the registry) and unknown codes."""
    if len(node) not in (2, 4, 6):
        return None
    found = None
    for _, props in numdb.get("cn/loc").info(division_code(node)):
        found = props.get("county") or props.get("province") or found
    if not found:
        return None
    return str(_SINCE.sub("", found.split(",")[-1]).strip()) or None
