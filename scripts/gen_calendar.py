"""Write contracts/src/xueji_contracts/data/calendar_cn.json from the `chinesecalendar` package (RULES R31).

Usage: uv run python scripts/gen_calendar.py [--check]

The runtime never imports chinese_calendar (a dev-only dependency): it reads this checked-in JSON.
Only the days that differ from a plain Monday-Friday week are written: public holidays falling on
weekdays (rest days) and make-up working days falling on weekends. A holiday's weekend days change
nothing, so they are left out.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from importlib.metadata import version
from pathlib import Path

import chinese_calendar

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "contracts" / "src" / "xueji_contracts" / "data" / "calendar_cn.json"
FIRST_YEAR = 2004  # the package's first year; the State Council notices it transcribes start there


def _entry(day: date, english: str | None) -> dict[str, str]:
    entry = {"date": day.isoformat()}
    if english:
        entry["name"] = english
        entry["name_zh"] = chinese_calendar.Holiday(english).chinese
    return entry


def build() -> dict[str, object]:
    """The calendar document: per year, weekday rest days and weekend working days with holiday names."""
    holidays: dict[date, str | None] = chinese_calendar.holidays
    workdays: dict[date, str | None] = chinese_calendar.workdays
    last_year = max(d.year for d in holidays)
    years: dict[str, object] = {}
    for year in range(FIRST_YEAR, last_year + 1):
        rest = sorted(d for d in holidays if d.year == year and d.weekday() < 5)
        work = sorted(d for d in workdays if d.year == year and d.weekday() >= 5)
        years[str(year)] = {
            "rest_days": [_entry(d, holidays[d]) for d in rest],
            "working_days": [_entry(d, workdays[d]) for d in work],
        }
    return {
        "source": "State Council General Office annual holiday notices, as transcribed by the chinesecalendar package",
        "generated_with": f"chinesecalendar {version('chinesecalendar')}",
        "generated_by": "scripts/gen_calendar.py",
        "years": years,
    }


DAY_OBJECT = re.compile(r'\{\n\s+("date"[^{}]*?)\n\s+\}')  # one day entry as json.dumps(indent=1) spreads it


def render() -> str:
    """JSON with one day per line, so a new notice or a correction reads as a short diff."""
    text = json.dumps(build(), indent=1, ensure_ascii=False)
    return DAY_OBJECT.sub(lambda m: "{" + re.sub(r",\n\s+", ", ", m[1]) + "}", text) + "\n"


def main(check: bool) -> int:
    text = render()
    if check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is stale; run `uv run python scripts/gen_calendar.py`", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
