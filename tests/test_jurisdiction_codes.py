"""Jurisdiction codes are read through contracts' `Division` (issue 17, R50): no module slices a school or division
code by hand (`code[:6]` for its county and the like). The few slices left are listed here with the reason."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_NAME = r"\w*(?:code|school|jurisdiction|receiving|sending|county|city|province)\w*"
SLICE = re.compile(rf"(?:{_NAME}(?:\.\w+)*|\[\"{_NAME}\"\])\[:(?:2|4|6)\]")
LEFT = {
    # The one place that knows the layout of a code.
    "contracts/src/xueji_contracts/division.py": "Division itself",
    # A resident ID number's region (possibly an abolished division), used as a scoring key, not a jurisdiction.
    "services/dedupe/src/xueji_dedupe/domain/profile.py": "ID-number region as a blocking key",
    # Node keys: maps 000000 to "00" where Division would give the nation; changing it changes the dashboard tree.
    "services/notify/src/xueji_notify/domain/jurisdiction.py": "node_of, kept for the dashboard's node keys",
}


def test_no_module_slices_a_jurisdiction_code_by_hand() -> None:
    sources = [*ROOT.glob("contracts/src/**/*.py"), *ROOT.glob("kit/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]
    found = sorted(
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        if str(path.relative_to(ROOT)) not in LEFT
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SLICE.search(line)
    )
    assert not found, "use xueji_contracts.division.Division instead of slicing:\n" + "\n".join(found)


def test_the_check_finds_a_hand_slice() -> None:
    assert SLICE.search("county = command.school_code[:6]")
    assert SLICE.search('name_of(fields["jurisdiction"][:6])')
    assert not SLICE.search("Division.parse(command.school_code).county.code")
