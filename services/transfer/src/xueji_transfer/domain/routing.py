"""Who handles a complaint or cross-jurisdiction case: the lowest level covering every party (R53)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from xueji_contracts.auth import is_jurisdiction_code
from xueji_contracts.messages.transfer import Level
from xueji_transfer.domain.jurisdiction import NATIONAL, code_at, level_of

_ORDER = (Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE, Level.MINISTRY)


class Route(BaseModel):
    """The handling level and jurisdiction; `alternative` is who may also handle it (one school: its county)."""

    model_config = ConfigDict(frozen=True)

    level: Level
    code: str
    alternative_level: Level | None = None
    alternative_code: str | None = None


def route_dispute(codes: Iterable[str]) -> Route:
    """One school -> the school or its county; one county -> county; one city -> city;
    one province -> province; more than one province -> the Ministry (003 Q15)."""
    parties = sorted(set(codes))
    if not parties:
        raise ValueError("codes: a dispute names at least one school or division")
    bad = [c for c in parties if not is_jurisdiction_code(c)]
    if bad:
        raise ValueError(f"codes: not a school or division code: {', '.join(bad)}")
    for level in _ORDER[:-1]:
        if any(_ORDER.index(level_of(c)) > _ORDER.index(level) for c in parties):
            continue  # a party above this level cannot be covered by it
        covering = {code_at(level, c) for c in parties}
        if len(covering) == 1:
            code = covering.pop()
            if level is Level.SCHOOL:
                return Route(level=level, code=code, alternative_level=Level.COUNTY, alternative_code=code[:6])
            return Route(level=level, code=code)
    return Route(level=Level.MINISTRY, code=NATIONAL)
