"""Where a benchmark's result goes: bench/results/<name>.json (checked in beside the code), and the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def save_result(name: str, result: dict[str, Any], *, ensure_ascii: bool = True) -> dict[str, Any]:
    """Write `result` to bench/results/`name`.json, print it, and return it."""
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=ensure_ascii)
    (RESULTS / f"{name}.json").write_text(text + "\n")
    print(text)
    return result
