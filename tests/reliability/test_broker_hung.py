"""A hung broker (gray failure): the Kafka broker stops answering without closing a connection (its process stopped
with SIGSTOP, as a hung VM or a stalled disk; the kernel still accepts connections, nothing answers) for 20 s under
enrollments, then goes on (SIGCONT). The registry, started as `make run` starts it, answers every request within a
bound (the commit waits in the outbox: 201/202, never a hang), recovers without help, and enrolls every accepted
student once with one gapless R07 number."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import kafka_server
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faults import CuttableProxy
from test_broker_outage_under_load import OwnBroker, enrollments_across, judged

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
ANSWER_BOUND_S = 10.0
RECOVERY_BOUND_S = 30.0


class HungBroker(OwnBroker):
    async def down(self) -> None:
        self.server.process.send_signal(signal.SIGSTOP)

    async def up(self) -> None:
        self.server.process.send_signal(signal.SIGCONT)


async def test_a_broker_hung_for_20_s_under_enrollments_answers_in_time_and_loses_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    load, ids, recovery = await enrollments_across(isolation, signing_keys, token, wait_for, tmp_path,
                                                   HungBroker(tmp_path / "kafka"))  # fmt: skip
    await judged("broker_hung_under_load", isolation, load, ids, recovery, slowest_answer_s=load.slowest)
    assert load.slowest <= ANSWER_BOUND_S, f"a request took {load.slowest:.1f} s"


class SilencedBroker(OwnBroker):
    """The broker behind a proxy it advertises as its address; the path blackholed, then working again for new
    connections only (a firewall that lost its state: the old ones stay silent for good)."""

    def __init__(self, data: Path) -> None:
        super().__init__(data)
        self.path: CuttableProxy | None = None

    async def start(self) -> OwnBroker:
        if self.path is None:
            self.path = await CuttableProxy(f"127.0.0.1:{self.port}").start()
        self.server = await asyncio.to_thread(kafka_server.start, self.data, self.port, self.controller,
                                              advertised_port=self.path.port)  # fmt: skip
        return self

    async def down(self) -> None:
        assert self.path is not None
        await self.path.blackhole(lose_state=True)

    async def up(self) -> None:
        assert self.path is not None
        await self.path.restore()


async def test_a_broker_path_silent_for_20_s_under_enrollments_answers_in_time_and_loses_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    broker = SilencedBroker(tmp_path / "kafka")
    try:
        load, ids, recovery = await enrollments_across(isolation, signing_keys, token, wait_for, tmp_path, broker)
    finally:
        if broker.path is not None:
            await broker.path.stop()
    await judged("broker_blackhole_under_load", isolation, load, ids, recovery, slowest_answer_s=load.slowest)
    assert load.slowest <= ANSWER_BOUND_S, f"a request took {load.slowest:.1f} s"
    # Once the path is back the relay and the consumers drop their silent connections within the kit's request
    # timeout (15 s) and go on: every enrollment is through within RECOVERY_BOUND_S (46 s with aiokafka's 40 s).
    assert recovery <= RECOVERY_BOUND_S, f"{recovery:.1f} s to recover"
