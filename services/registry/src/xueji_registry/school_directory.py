"""The province's school directory the registry keeps (code -> name), published so every page shows names."""

from __future__ import annotations

from pathlib import Path

from xueji_contracts.schools import load_school_names


class SchoolDirectory:
    def __init__(self, schools: dict[str, str]) -> None:
        self.schools = dict(sorted(schools.items()))

    @classmethod
    def load(cls, path: Path | None) -> SchoolDirectory:
        """Empty without a file; a malformed file stops the service naming the file and the row."""
        return cls(load_school_names(path))

    def under(self, prefix: str) -> list[dict[str, str]]:
        return [{"code": code, "name": name} for code, name in self.schools.items() if code.startswith(prefix)]
