"""Write the AsyncAPI document of every service to contracts/asyncapi/ (checked in; a test fails when stale).

Usage: uv run python scripts/gen_asyncapi.py [--check]
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

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
    unbatch(schema)
    add_examples(schema, service)
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def unbatch(schema: dict[str, Any]) -> None:
    """A batch subscriber's handler takes a list of envelopes, but each Kafka message is one envelope: document the
    message, under the envelope's usual name (Envelope[X], as publishers name it), not the handler's list."""
    schemas = schema.get("components", {}).get("schemas", {})
    renamed: dict[str, str] = {}
    for message in schema.get("components", {}).get("messages", {}).values():
        ref = message.get("payload", {}).get("$ref", "")
        listed = schemas.get(unquote(ref.rsplit("/", 1)[-1]), {})
        item = listed.get("items", {}).get("$ref", "")
        if listed.get("type") == "array" and listed.get("items") == {}:  # any message (checked by the handler)
            listed.pop("items")
            listed |= {"type": "object", "additionalProperties": True}
        if listed.get("type") != "array" or not item.startswith("#/components/schemas/Envelope_"):
            continue
        old = item.rsplit("/", 1)[-1]
        new = f"Envelope[{old.removeprefix('Envelope_').removesuffix('_')}]"
        renamed[old] = new
        message["payload"] = {"$ref": "#/components/schemas/" + new.replace("[", "%5B").replace("]", "%5D")}
        del schemas[unquote(ref.rsplit("/", 1)[-1])]
    for old, new in renamed.items():
        body = schemas.pop(old)
        schemas.setdefault(new, body | {"title": new})


def add_examples(schema: dict[str, Any], service: str) -> None:
    """Whole-message examples (envelope, payload, Kafka headers) for every payload whose contract model has
    `examples`, so a subscribing team sees exactly what arrives. Fixed ids and times: the output is stable."""
    schemas = schema.get("components", {}).get("schemas", {})
    for message in schema.get("components", {}).get("messages", {}).values():
        ref = message.get("payload", {}).get("$ref", "")
        name = unquote(ref.rsplit("/", 1)[-1])
        if not (name.startswith("Envelope[") and name.endswith("]")):
            continue
        payload_name = name.removeprefix("Envelope[").removesuffix("]")
        payload_schema = schemas.get(payload_name, {})
        examples = payload_schema.get("examples", [])
        message["examples"] = [
            {
                "name": f"{payload_name} {n + 1}",
                "headers": {"xueji-province": "35", "xueji-province-35": "1"},
                "payload": {
                    "message_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"xueji:{service}:{payload_name}:{n}")),
                    "type": payload_name,
                    "occurred_at": "2026-09-01T01:30:00Z",
                    "producer": payload_schema.get("x-producer", service),
                    "province": "35",
                    "correlation_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"xueji:{payload_name}:{n}")),
                    "causation_id": None,
                    "schema_version": 1,
                    "payload": example,
                },
            }
            for n, example in enumerate(examples)
        ]
        if not message["examples"]:
            del message["examples"]


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
