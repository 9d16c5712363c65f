"""Notify's test helpers: contract messages as an upstream would publish them, and a Kafka producer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
