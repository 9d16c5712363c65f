"""The checked-in AsyncAPI documents match what the services' FastStream brokers declare."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

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
    assert {"student.status.v1", "student.status.snapshot.v1"} <= addresses
    schemas = document["components"]["schemas"]
    for payload in ("StudentStatusRecorded", "StudentStatusSnapshot", "StatusBefore", "DeletionApproval"):
        public = json.dumps(schemas[payload])
        assert "id_number" not in public, f"R52: {payload} on a public topic never carries an ID number"
        personal = {"name", "birth_date", "gender", "guardians", "address"} & set(schemas[payload]["properties"])
        assert not personal, f"R52: {payload} carries no personal details"
    assert "status_number_masked" in json.dumps(schemas["StudentStatusRecorded"])


def test_r52_every_kind_of_change_has_one_documented_example():
    from xueji_contracts.messages.status import StatusChangeKind

    document = json.loads((ROOT / "contracts" / "asyncapi" / "registry.json").read_text())
    (message,) = [m for m in document["components"]["messages"].values()
                  if m["payload"]["$ref"].endswith("StudentStatusRecorded%5D")]  # fmt: skip
    kinds = [example["payload"]["payload"]["change"] for example in message["examples"]]
    assert sorted(kinds) == sorted(k.value for k in StatusChangeKind)


def test_r52_every_message_example_is_a_valid_contract_message_without_raw_ids():
    from xueji_contracts.catalog import message_models
    from xueji_contracts.envelope import Envelope
    from xueji_contracts.identity import InvalidResidentId, validate_resident_id

    checked = 0
    for path in (ROOT / "contracts" / "asyncapi").glob("*.json"):
        for message in json.loads(path.read_text())["components"]["messages"].values():
            for example in message.get("examples", []):
                name = example["payload"]["type"]
                model = message_models().get(name)
                assert model is not None, f"{path.name}: example of an unknown payload {example['payload']['type']}"
                Envelope[model].model_validate(example["payload"])
                assert example["headers"][f"xueji-province-{example['payload']['province']}"] == "1"
                for candidate in re.findall(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])", json.dumps(example)):
                    with pytest.raises(InvalidResidentId):
                        validate_resident_id(candidate)  # R52: nothing in an example is a real-looking ID
                checked += 1
    assert checked >= 2, "student.status.v1 is documented with examples"
