"""docs/architecture.md routes a newcomer from a rule id to its tests, handler or timer and domain function (issue
17): every file it names exists, and every test and function it names is defined there, so the routes cannot go
stale silently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text()
PATH = re.compile(r"`((?:services|contracts|kit|tests)/[\w./-]+)`")


def _sections() -> dict[str, str]:
    parts = re.split(r"^## ", DOC, flags=re.M)[1:]
    return {part.split()[0]: part for part in parts}


@pytest.mark.parametrize("rule", ["R07", "R14", "R22"])
def test_each_rule_has_a_route_with_tests_a_handler_or_timer_and_a_domain_function(rule: str) -> None:
    section = _sections()[rule]
    rows = {line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")}
    assert "tests" in rows
    assert any(r.startswith(("handler", "timer")) for r in rows), rows
    assert any(r.startswith("domain") for r in rows), rows
    named_tests = re.findall(rf"`(test_{rule.lower()}_\w+?)(?:\.\.\.)?`", section)
    assert named_tests, f"{rule}: the route names no test"


def test_every_file_named_exists() -> None:
    named = PATH.findall(DOC)
    assert len(named) > 20
    missing = [p for p in named if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, missing


def test_every_test_and_function_named_is_defined_in_a_file_on_its_line() -> None:
    """`name` after a path on the same table row is defined in that file (or, for a test name, in a test file on
    that row); a test name cut short with ... is a prefix of one."""
    for line in DOC.splitlines():
        if not line.startswith("| "):
            continue
        files = [ROOT / p for p in PATH.findall(line) if p.endswith(".py")]
        if not files:
            continue
        text = "\n".join(f.read_text() for f in files)
        for name in re.findall(r"`(?:\w+\.)?([A-Za-z_]\w*)(\.\.\.)?`", line):
            word, cut = name
            if word in {
                "FireTimer",
                "TransferService",
                "WorkingDayCalendar",
                "Division",
                "SupplementaryRequested",
                "TimerScheduler",
            }:
                continue  # types named in passing, defined elsewhere
            if word.islower() and "_" not in word and not cut:
                continue  # a plain word or a topic part, not a definition
            # defined by def or class, or assigned at module level (a handler a kit factory made)
            name = re.escape(word) + (r"\w*" if cut else r"\b")
            pattern = rf"(?:def|class) {name}|^{name}\s*(?::[^=\n]*)?="
            assert re.search(pattern, text, re.M), (
                f"{word} is not defined in {[str(f.relative_to(ROOT)) for f in files]}"
            )
