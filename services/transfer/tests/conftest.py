"""Transfer's test helpers: an HTTP driver for cases, a fixed clock, and a reader of published messages."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
