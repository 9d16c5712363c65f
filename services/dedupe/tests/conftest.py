"""Dedupe's test helpers live beside the tests (dedupe_driver.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
