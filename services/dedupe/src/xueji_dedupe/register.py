"""The population register comparison for G numbers (R03, R10): an interface and a file-backed stand-in.

The real register is outside our reach; `FileRegister` reads its records from a JSON list or a CSV file
with the columns id_number, name, birth_date (YYYY-MM-DD) and gender (male/female).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Protocol

from xueji_contracts.identity import validate_resident_id
from xueji_contracts.messages.dedupe import RegisterOutcome
from xueji_dedupe.domain import name_key


class PopulationRegister(Protocol):
    async def compare(self, id_number: str, name: str, birth_date: date, gender: str) -> RegisterOutcome:
        """Does the register know this ID number, and does it say the same name, birth date and gender?"""
        ...


class FileRegister:
    """Register records loaded from a file; names compare after normalisation (traditional form, spaces)."""

    def __init__(self, records: dict[str, tuple[str, date, str]]) -> None:
        self._records = records

    @classmethod
    def from_file(cls, path: Path) -> FileRegister:
        text = path.read_text(encoding="utf-8")
        rows = json.loads(text) if path.suffix == ".json" else list(csv.DictReader(text.splitlines()))
        records = {
            validate_resident_id(row["id_number"]): (
                name_key(row["name"]),
                date.fromisoformat(row["birth_date"]),
                row["gender"].strip().lower(),
            )
            for row in rows
        }
        return cls(records)

    async def compare(self, id_number: str, name: str, birth_date: date, gender: str) -> RegisterOutcome:
        known = self._records.get(id_number)
        if known is None:
            return RegisterOutcome.NOT_FOUND
        if known == (name_key(name), birth_date, gender):
            return RegisterOutcome.MATCH
        return RegisterOutcome.MISMATCH


class NoRegister:
    """No register configured: every comparison says not_found, so no G number is issued on our word alone."""

    async def compare(self, id_number: str, name: str, birth_date: date, gender: str) -> RegisterOutcome:
        return RegisterOutcome.NOT_FOUND


def register_from(path: Path | None) -> PopulationRegister:
    return FileRegister.from_file(path) if path is not None else NoRegister()
