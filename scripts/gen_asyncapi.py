"""Write the AsyncAPI document of every service to contracts/asyncapi/ (checked in; a test fails when stale).

Usage: uv run python scripts/gen_asyncapi.py [--check]
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "contracts" / "asyncapi"
SERVICES = ("registry", "transfer", "dedupe", "notify")


def render(service: str) -> str:
    """The document as built from the service's FastStream broker with default settings."""
    app = importlib.import_module(f"xueji_{service}.app")
    settings_cls = getattr(importlib.import_module(f"xueji_{service}.settings"), f"{service.title()}Settings")
    # Fixed values, not the environment: the document must not depend on where it was generated.
    settings = settings_cls(kafka_bootstrap_servers="kafka:9092", topic_prefix="", consumer_group_prefix="")
    runtime = app.build_runtime(settings)
    schema = runtime.asyncapi().to_specification().to_jsonable()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(check: bool) -> int:
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path = OUT / f"{service}.json"
        text = render(service)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print(f"stale AsyncAPI documents: {', '.join(stale)}; run `make asyncapi`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
