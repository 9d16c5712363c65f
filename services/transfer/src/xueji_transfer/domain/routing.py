"""Who handles a complaint or cross-jurisdiction case: the lowest level covering every party (R53, 003 Q15).

A matter of one school may go to the school or its county (both offered), but a complaint about the school's own act
goes to the county. Each handling body publishes how to apply and a phone number: the province policy's
`complaints`, returned with the route.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from xueji_contracts.auth import is_jurisdiction_code
from xueji_contracts.messages.transfer import Level
from xueji_contracts.policy.complaints import ComplaintChannel, Complaints
from xueji_transfer.domain.jurisdiction import NATIONAL, code_at, county_code, level_of

_ORDER = (Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE, Level.MINISTRY)


class Route(BaseModel):
    """The handling level and jurisdiction; `alternative` is who may also handle it (one school: its county).
    `channel` is how to apply to the handler and its phone number (None where the province published none)."""

    model_config = ConfigDict(frozen=True)

    level: Level
    code: str
    alternative_level: Level | None = None
    alternative_code: str | None = None
    channel: ComplaintChannel | None = None
    alternative_channel: ComplaintChannel | None = None


def _covering(parties: list[str]) -> tuple[Level, str]:
    for level in _ORDER[:-1]:
        if any(_ORDER.index(level_of(c)) > _ORDER.index(level) for c in parties):
            continue  # a party above this level cannot be covered by it
        covering = {code_at(level, c) for c in parties}
        if len(covering) == 1:
            return level, covering.pop()
    return Level.MINISTRY, NATIONAL


def route_dispute(
    codes: Iterable[str], *, about_school_act: bool = False, complaints: Complaints | None = None
) -> Route:
    """One school -> the school or its county (about the school's own act: the county); one county -> county;
    one city -> city; one province -> province; more than one province -> the Ministry (003 Q15)."""
    parties = sorted(set(codes))
    if not parties:
        raise ValueError("codes: a dispute names at least one school or division")
    bad = [c for c in parties if not is_jurisdiction_code(c)]
    if bad:
        raise ValueError(f"codes: not a school or division code: {', '.join(bad)}")
    level, code = _covering(parties)
    channels = complaints or Complaints()
    if level is Level.SCHOOL and about_school_act:
        level, code = Level.COUNTY, county_code(code)  # no one judges their own act
    elif level is Level.SCHOOL:
        county = county_code(code)
        return Route(
            level=level,
            code=code,
            alternative_level=Level.COUNTY,
            alternative_code=county,
            channel=channels.channel(level, code),
            alternative_channel=channels.channel(Level.COUNTY, county),
        )
    return Route(level=level, code=code, channel=channels.channel(level, code))
