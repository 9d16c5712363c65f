"""The local stack fails fast with a message that says what to do, instead of hanging."""

from __future__ import annotations

import shutil
import socket

import common
import ferretdb_server
import kafka_server
import pytest
from common import StackError, free_port


def test_taken_port_is_named_with_the_variable_to_change(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StackError, match=f"port {port} .* already taken.*XUEJI_KAFKA_PORT"):
            kafka_server.start(tmp_path / "kafka", port, free_port())
        with pytest.raises(StackError, match="XUEJI_MONGO_PORT"):
            ferretdb_server.start(tmp_path / "ferretdb", port)


def test_missing_tool_is_named_with_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(StackError, match="`java` is not installed.*Java 17"):
        common.require_tool("java", "install a Java 17+ runtime")


def test_corrupt_kafka_data_dir_fails_with_its_log(tmp_path):
    data = tmp_path / "kafka"
    (data / "logs").mkdir(parents=True)
    (data / "logs" / "meta.properties").write_text("this is not a kafka meta file\n")
    with pytest.raises(StackError, match="Kafka exited with code .* last lines"):
        kafka_server.start(data, free_port(), free_port(), timeout=60)


def test_ferretdb_data_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "data"
    path.write_text("not a directory")
    with pytest.raises(StackError, match="not a directory"):
        ferretdb_server.start(path, free_port())


def test_a_kafka_cluster_id_never_starts_with_a_dash_the_storage_tool_would_read_as_an_option():
    import base64

    drawn = [kafka_server._cluster_id() for _ in range(2000)]
    assert not [c for c in drawn if c.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(c + "==")) == 16 for c in drawn)
