"""Ports for the servers tests start: never from the range client connections take theirs from (a full run lost a
test when a Kafka or store connection took the registry's port between its pick and its bind)."""

from __future__ import annotations

import socket

from common import _first_ephemeral_port, free_port, port_is_free


def test_a_free_port_is_below_the_kernels_range_for_outgoing_connections_and_free():
    first = _first_ephemeral_port()
    ports = {free_port() for _ in range(50)}
    assert all(port < first and port_is_free(port) for port in ports)
    assert len(ports) > 40  # picked at random: two servers started together rarely race for one
    with socket.create_server(("127.0.0.1", min(ports))):  # a server can bind it
        pass
