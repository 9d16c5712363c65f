"""One service process: settings, logging, store, broker with dead-lettering, relay and HTTP app.

A service's app.py builds a ServiceRuntime, registers its handlers and routes, and returns
`runtime.http_app(...)`; the lifespan starts and stops everything in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, get_args

import structlog
from fastapi import APIRouter, FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from xueji_contracts.envelope import Envelope
from xueji_contracts.topics import TopicSpec
from xueji_kit.contract_policy import know
from xueji_kit.deadletter import make_dead_letter_middleware, parse_leniently
from xueji_kit.direct_publish import Message, broker_client, send_in_batches
from xueji_kit.event_store import EventStore
from xueji_kit.http import add_operational_routes, allow_cross_origin
from xueji_kit.idempotency_claims import COLLECTION, KeyClaims, prune_expired_keys
from xueji_kit.kafka_security import kafka_security
from xueji_kit.lease import SlotLease
from xueji_kit.logs import configure_logging
from xueji_kit.outbox_entries import Serialized
from xueji_kit.partitioning import partition_for
from xueji_kit.readiness import BrokerContact
from xueji_kit.relay import OutboxRelay
from xueji_kit.security import TokenVerifier
from xueji_kit.settings import ServiceSettings
from xueji_kit.store import connect

Hook = Callable[[], Awaitable[object]]  # what a hook returns (a count, say) is not used
log = structlog.get_logger("runtime")


JSON = "application/json"  # the content type FastStream gives a message it encodes as JSON (a dict)


def province_headers(message: dict[str, Any]) -> dict[str, str]:
    """The envelope's province as Kafka headers. A mirror cannot read JSON, but Kafka Connect's HasHeaderKey
    predicate can test a header's presence: `xueji-province-35` lets MirrorMaker 2 route the national tier's
    answers back to the asking province alone (deploy/k8s/overlays/national/mirrormaker2.yaml)."""
    return headers_of(str(message.get("province", "")))


def headers_of(province: str) -> dict[str, str]:
    """`province_headers` of a message whose province is `province`."""
    return {"xueji-province": province, f"xueji-province-{province}": "1"} if province else {}


@dataclass(frozen=True)
class Batch:
    """Consume up to `size` messages at a time; `decoder` turns the raw records into what the handler takes."""

    size: int
    decoder: Callable[..., Any]


def _name_of(job: Callable[..., Any]) -> str:
    """A background task's name (store commands and logs are told apart by it): the job's own name."""
    inner = getattr(job, "func", job)
    return str(getattr(inner, "__qualname__", None) or repr(inner))


PRODUCER_BATCH_BYTES = 512 * 1024
# Allocations between young-generation collections (CPython's default: 700); see `settled_heap`. A batch of 500
# students in flight keeps ~50,000 objects alive across its store round trips: at 20,000 each young collection walked
# most of them (bulk import, 30,000 students: 2.2 s of the registry's collector time, 0.13 s at 100,000).
YOUNG_COLLECTION_EVERY = 100_000
_running: list[tuple[int, int, int]] = []  # the collector's thresholds before each service of this process started


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """While a service runs: what its start-up built (modules, models, schemas, a loaded index) is kept out of every
    garbage collection, and young collections run every YOUNG_COLLECTION_EVERY allocations. A service builds and drops
    objects by the thousand per message batch; with the defaults the collector took 23% of the registry's and of
    dedupe's CPU in a bulk import (each full collection walking the whole start-up heap, ~0.1 s). Only the timing
    changes: garbage is still collected, in fewer passes. When the last service of the process stops (tests run
    many in one), the heap is collectable again as a whole and the thresholds are what they were."""
    if not _running:
        gc.collect()
        gc.freeze()
    _running.append(gc.get_threshold())
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *_running[0][1:])
    try:
        yield
    finally:
        before = _running.pop()
        if not _running:
            gc.unfreeze()
            gc.set_threshold(*before)


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, *, title: str, description: str) -> None:
        configure_logging(settings.service_name, settings.log_format, settings.log_level)
        self.settings = settings
        self.title = title
        self.description = description
        self.mongo = connect(
            settings.mongodb_uri,
            timeout=settings.mongodb_timeout_seconds,
            connect_timeout=settings.mongodb_connect_timeout_seconds,
            socket_timeout=settings.mongodb_socket_timeout_seconds,
        )
        self.db = self.mongo[settings.database_name]
        self.events = EventStore(self.db)
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            client_id=f"xueji-{settings.service_name}",
            middlewares=[make_dead_letter_middleware(settings.handler_retries)],
            enable_idempotence=True,
            partitioner=partition_for,  # Kafka's default, remembered per key (partitioning.py)
            # A relay turn publishes hundreds of messages at once (a class's checks, verdicts or records): in the
            # default 16 KB batches that was dozens of produce requests per turn, each one round trip (idempotent:
            # one in flight per partition) and work for the broker. Below the broker's 1 MB message limit.
            max_batch_size=PRODUCER_BATCH_BYTES,
            # aiokafka waits 40 s for an answer on a connection by default: a path that went silent for good (a
            # firewall that lost its state) held the relay and the consumers that long after it was back.
            request_timeout_ms=round(settings.kafka_request_timeout_seconds * 1000),
            security=kafka_security(settings),
            graceful_timeout=10.0,
        )
        holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self.relay = OutboxRelay(
            self.events,
            SlotLease(self.db["leases"], "relay", holder),
            self._publish,
            publish_all=self._publish_all,
            batch_size=settings.relay_batch_size,
            interval=settings.relay_interval_seconds,
        )
        # Verifies operators' tokens: on HTTP requests, and on messages that carry one (security.message_operator).
        self.tokens = TokenVerifier(
            settings.public_key(), settings.jwt_issuer, settings.jwt_audience, serves=settings.served_province()
        )
        self.startup_hooks: list[Hook] = [self.events.ensure_indexes]
        # Awaited on a stop before the background jobs are cancelled and the broker and store closed (work a service
        # started behind a handler's answer, finished while the store is still there).
        self.stopping_hooks: list[Hook] = []
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = [self.relay.run_forever]
        # Idempotency-Key claims (the middleware's), and the hourly job removing the expired ones off the hot path.
        kept = timedelta(hours=settings.idempotency_kept_hours)
        self.key_claims = KeyClaims(self.db[COLLECTION], holder, kept=kept)
        self.background.append(partial(prune_expired_keys, self.key_claims, every=settings.idempotency_prune_seconds))
        self._tasks: list[asyncio.Task[None]] = []
        self.broker_contact = BrokerContact(settings.kafka_ready_grace_seconds)

    async def _publish_all(self, messages: list[Message]) -> list[Awaitable[Any]]:
        """A relay turn's messages: straight to the broker client in batches when it is connected (`direct_publish`),
        else one by one through FastStream."""
        if (client := broker_client(self.broker)) is None:
            return [await self._publish(topic, key, message) for topic, key, message in messages]
        return await send_in_batches(client, messages, self.settings.topic, headers_of, self._publish)

    async def _publish(self, topic: str, key: str, message: dict[str, Any] | Serialized) -> Awaitable[Any]:
        if isinstance(message, Serialized):  # its JSON as it is, with the headers the broker client gives a dict
            body: Any = message.body
            correlation, headers = message.correlation_id, {"content-type": JSON} | headers_of(message.province)
        else:
            body, correlation, headers = message, str(message.get("correlation_id", "")), province_headers(message)
        ack: Awaitable[Any] = await self.broker.publish(
            body, self.settings.topic(topic), key=key.encode(), no_confirm=True, correlation_id=correlation,
            headers=headers,
        )  # fmt: skip
        return ack

    def consumes(
        self,
        spec: TopicSpec,
        handler: Callable[..., Any],
        *,
        group: str | None,
        about: str,
        batch: Batch | None = None,
        topics: Sequence[str] = (),
        title: str | None = None,
    ) -> None:
        """The one way a service consumes a topic: `handler` gets `spec`'s messages (or those of `topics`, the names
        they arrive under: a mirrored copy, another tier's), from the earliest offset, in consumer group `group`
        (offsets are kept under that name: a new name replays the topic; None: no group, every replica reads every
        partition); with `batch`, up to `batch.size` messages at a time. `about` and `title` (by default
        `<service>.<topic>`) document the consumer in the AsyncAPI document.

        In a consumer group a message's offset is committed only after it was handled or dead-lettered; anything
        else (a dead letter the broker refused) rewinds to the message, which is consumed again. Never past a message
        that left no trace."""
        settings = self.settings
        options: dict[str, Any] = {"parser": parse_leniently}  # unreadable headers: dead-lettered, not fatal
        if group is not None:
            options |= {"group_id": settings.group(group), "ack_policy": AckPolicy.NACK_ON_ERROR}
        if batch is not None:
            options |= {"batch": True, "max_records": batch.size, "decoder": batch.decoder}
        self.broker.subscriber(
            *(settings.topic(name) for name in topics or (spec.name,)),
            auto_offset_reset="earliest",
            title=title or f"{settings.service_name}.{spec.name}",
            description=about,
            **options,
        )(handler)

    def publishes(self, spec: TopicSpec, payload: type[BaseModel]) -> None:
        """Declare what this service publishes (through the relay) so the AsyncAPI document shows it; its consumers
        know these types (a service's own internal messages need not be in the shared contracts)."""
        know(get_args(payload) or (payload,))
        self.broker.publisher(
            self.settings.topic(spec.name),
            title=f"{self.settings.service_name}:{spec.name}",
            description=spec.description,
            schema=Envelope[payload],  # type: ignore[valid-type]
        )

    def asyncapi(self) -> AsyncAPI:
        return AsyncAPI(self.broker, title=self.title, description=self.description, version="1.0.0")

    async def ready(self) -> dict[str, bool]:
        """Readiness: the broker answered metadata within the last kafka_ready_grace_seconds (a ping that is slow
        under load does not flap it) and the store answers ping."""
        checks = {"kafka": False, "mongodb": False}
        answered = False
        with contextlib.suppress(Exception):
            answered = bool(await self.broker.ping(timeout=2.0))
        checks["kafka"] = self.broker_contact.ready(answered)
        with contextlib.suppress(Exception):
            checks["mongodb"] = bool((await self.db.command("ping")).get("ok"))
        return checks

    @contextlib.asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        for hook in self.startup_hooks:
            await hook()
        await self.broker.start()
        self.broker_contact.answered()  # it answered metadata to start
        self._tasks = [asyncio.create_task(job(), name=_name_of(job)) for job in self.background]
        log.info("service_started", kafka=self.settings.kafka_bootstrap_servers)
        try:
            with settled_heap():
                yield
        finally:
            for hook in self.stopping_hooks:
                try:
                    await hook()
                except Exception as exc:  # a stop goes on: what the hook left is redone after the restart
                    log.warning("stopping_hook_failed", hook=_name_of(hook), error=str(exc)[:500])
            for task in self._tasks:
                task.cancel()
            # Bounded: a background job that swallows its cancellation must not hang the shutdown.
            if self._tasks:
                stopped, stuck = await asyncio.wait(self._tasks, timeout=10)
                for task in stuck:
                    log.error("background_job_did_not_stop", job=task.get_name(), stopped=len(stopped))
            await self.broker.stop()
            await self.mongo.close()
            log.info("service_stopped")

    def http_app(self, routers: Sequence[APIRouter] = ()) -> FastAPI:
        app = FastAPI(title=self.title, description=self.description, version="1.0.0", lifespan=self.lifespan)
        app.state.runtime = self
        app.state.token_verifier = self.tokens
        app.state.key_claims = self.key_claims
        add_operational_routes(app, self.ready)
        if self.settings.cors_origins:
            allow_cross_origin(app, self.settings.cors_origins)
        for router in routers:
            app.include_router(router)
        return app
