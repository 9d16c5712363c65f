"""Free text as people type it: no control characters (a NUL breaks the CSV and XLSX a bureau files) and no
bidirectional overrides or zero-width marks (U+202E makes a name read backwards; U+200B hides a difference)."""

from __future__ import annotations

import re

# C0 controls but tab, newline and carriage return; DEL and the C1 controls; zero-width and bidirectional marks.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
REASON = "control or bidirectional-override characters are not allowed in text"


def plain(value: str) -> str:
    """`value` unchanged, or ValueError naming the reason (a validator's 422 names the field)."""
    if CONTROL.search(value):
        raise ValueError(REASON)
    return value
