"""docs/exceptions.md lists each "generally" rule, its default and who may except it (issue 20, RULES "Exceptions"):
one table, every clause the registry takes an exception for and every absolute part it refuses."""

from __future__ import annotations

from pathlib import Path

from xueji_registry.domain.rule_exceptions import ABSOLUTE, RULE_OF

DOC = Path(__file__).resolve().parents[1] / "docs" / "exceptions.md"


def test_the_exceptions_table_names_every_registry_clause_and_absolute_part() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "| rule | default | who may record an exception | absolute part |" in text
    rows = [line for line in text.splitlines() if line.startswith("| R")]
    for clause, rule in RULE_OF.items():
        assert any(row.startswith(f"| {rule} |") and f"`{clause.value}`" in row for row in rows), clause
    for absolute, (rule, _) in ABSOLUTE.items():
        assert any(row.startswith(f"| {rule} |") and f"`{absolute}`" in row for row in rows), absolute
    assert {"R08", "R27", "R40"} <= {row.split("|")[1].strip() for row in rows}
