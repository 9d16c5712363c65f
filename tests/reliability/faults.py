"""Fault injection for the reliability suite: a TCP proxy in front of a server that a test can cut and restore,
as a store or broker that dies (`kill -9`) and comes back on the same address; blackhole, as a path that silently
drops everything while the connections stay open (a firewall that lost its state, a hung VM); or slow down."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class KilledInPlace:
    """A server the test started (`start()` sets `server`) whose outage is a SIGKILL; `up()` starts it again in place
    (same data, same ports)."""

    server: Any = None

    async def start(self) -> Any:
        raise NotImplementedError

    async def down(self) -> None:
        self.server.process.kill()
        self.server.process.wait(10)

    async def up(self) -> None:
        await self.start()


class _Link:
    """One client connection through the proxy. `lost`: its path's state is gone (the firewall forgot it): nothing
    on it gets through again, though neither end is told."""

    lost = False


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to `target`; `cut()` drops every connection and refuses new ones, `blackhole()`
    keeps them (and accepts new ones) but forwards nothing either way, `restore()` makes the path work again;
    `delay(ms)` holds every chunk that long in each direction."""

    def __init__(self, target: str) -> None:
        host, _, port = target.removeprefix("mongodb://").rstrip("/").rpartition(":")
        self._target = (host or "127.0.0.1", int(port))
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._delay = 0.0
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def blackhole(self, *, lose_state: bool = True) -> None:
        """Nothing is forwarded, in either direction, on any connection, until `restore()`; connections stay open
        and new ones are accepted (and held). `lose_state`: the connections open now stay silent for good after
        the restore (a firewall that forgot them; only new connections work again), else they carry on (a VM that
        was paused: what TCP held is delivered)."""
        self._flowing.clear()
        if lose_state:
            for link in self._links:
                link.lost = True

    def delay(self, milliseconds: float) -> None:
        """Every chunk is forwarded `milliseconds` after it arrived, in each direction (0: no delay). Chunks keep
        their order and do not wait for each other: a slow path, not a narrow one."""
        self._delay = milliseconds / 1000

    async def restore(self) -> None:
        self._flowing.set()
        if self._server is None:
            await self.start()

    async def stop(self) -> None:
        """Everything closed: the proxy's connections (also the lost ones) and its port."""
        self._flowing.set()
        await self.cut()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        link = _Link()
        self._links.add(link)
        tasks = [
            asyncio.create_task(self._pipe(link, reader, up_writer)),
            asyncio.create_task(self._pipe(link, up_reader, writer)),
        ]
        self._pipes.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._links.discard(link)
            for task in tasks:
                task.cancel()
                self._pipes.discard(task)
            for w in (writer, up_writer):
                w.close()

    async def _pipe(self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One direction of a link: chunks read as they come, each written once its delay is over and the path
        lets it through. Ends when the reader does (after what was read got through, if the path is open)."""
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await reader.read(65536):
                    chunks.put_nowait((loop.time() + self._delay, data))
            chunks.put_nowait((loop.time() + self._delay, b""))

        async def forward() -> None:
            with contextlib.suppress(OSError):
                while (chunk := await chunks.get())[1]:
                    await asyncio.sleep(max(0.0, chunk[0] - loop.time()))
                    await self._flowing.wait()
                    if link.lost:
                        await asyncio.Event().wait()  # never: this connection's packets are dropped from now on
                    writer.write(chunk[1])
                    await writer.drain()

        reading, forwarding = asyncio.create_task(read()), asyncio.create_task(forward())
        try:
            await asyncio.wait({reading, forwarding}, return_when=asyncio.FIRST_COMPLETED)
            if forwarding.done() or link.lost or not self._flowing.is_set():
                return  # the far end is gone; or the peer gave up on a silent path: what it sent last never arrives
            await forwarding
        finally:
            reading.cancel()
            forwarding.cancel()
