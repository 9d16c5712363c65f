"""The checked-in AsyncAPI documents match what the services' FastStream brokers declare."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_asyncapi", ROOT / "scripts" / "gen_asyncapi.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_asyncapi_documents_are_fresh():
    gen = _generator()
    for service in gen.SERVICES:
        path = gen.OUT / f"{service}.json"
        assert path.exists(), f"{path.name} missing: run `make asyncapi`"
        assert path.read_text() == gen.render(service), f"{path.name} is stale: run `make asyncapi`"


def test_public_status_topic_is_documented_with_its_envelope():
    document = json.loads((ROOT / "contracts" / "asyncapi" / "registry.json").read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert "student.status.v1" in addresses
    schemas = document["components"]["schemas"]
    public = json.dumps(schemas["StudentStatusRecorded"])
    assert "status_number_masked" in public
    assert "id_number" not in public, "R52: the public status event never carries an ID number"
