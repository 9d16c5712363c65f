"""The province's school directory file (code -> name): the registry publishes it, notify names schools with it.

One file format for every service that reads it, so a province keeps one file (XUEJI_SCHOOL_DIRECTORY_FILE).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

SCHOOL = re.compile(r"^\d{10}$")
CODE_COLUMNS = ("学校代码", "学校标识码", "code", "school_code")
NAME_COLUMNS = ("学校名称", "name", "school_name")


def load_school_names(path: Path | None) -> dict[str, str]:
    """Empty without a file; a malformed file stops the service naming the file and the entry."""
    if path is None:
        return {}
    text = path.read_text(encoding="utf-8-sig")
    rows: list[dict[str, Any]] = json.loads(text) if path.suffix == ".json" else list(csv.DictReader(io.StringIO(text)))
    schools: dict[str, str] = {}
    for n, row in enumerate(rows, start=1):
        code = next((str(row[c]).strip() for c in CODE_COLUMNS if row.get(c)), "")
        name = next((str(row[c]).strip() for c in NAME_COLUMNS if row.get(c)), "")
        if not SCHOOL.match(code) or not name:
            raise ValueError(f"{path}: entry {n} needs a 10-digit school code and a name")
        schools[code] = name
    return schools
