"""The four services started in-process on the test's private broker and store, as the other integration tests
start them, for the HTTP part of the reliability suite (issue 15)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

ENDLESS = {"/v1/dashboard/events"}  # a server-sent event stream never ends; its document says text/event-stream


def as_httpx(case: Any, headers: dict[str, str]) -> dict[str, Any]:
    """A schemathesis case as httpx request arguments (it serialises for requests)."""
    sent = case.as_transport_kwargs(base_url="http://service", headers=headers)
    request: dict[str, Any] = {"method": sent["method"], "url": sent["url"], "headers": sent.get("headers")}
    for key in ("params", "json", "cookies"):
        if sent.get(key) is not None:
            request[key] = sent[key]
    if sent.get("files") is not None:  # requests takes (None, 2026) for a form field; httpx wants text or bytes
        files = sent["files"].items() if isinstance(sent["files"], dict) else sent["files"]
        request["files"] = [(name, _part(spec)) for name, spec in files]
    data = sent.get("data")
    if isinstance(data, bytes | str):
        request["content"] = data
    elif data is not None:
        request["data"] = data
    return request


def _part(spec: Any) -> Any:
    if isinstance(spec, tuple):
        return (spec[0], _part(spec[1]), *spec[2:])
    return spec if isinstance(spec, bytes | str) or hasattr(spec, "read") else str(spec)


@dataclass(frozen=True)
class Services:
    registry: Any
    transfer: Any
    dedupe: Any
    notify: Any

    def all(self) -> dict[str, Any]:
        return {"registry": self.registry, "transfer": self.transfer, "dedupe": self.dedupe, "notify": self.notify}


FACTORIES: dict[str, tuple[Any, type, dict[str, Any]]] = {
    "registry": (create_registry, RegistrySettings, {"scheduler_enabled": False}),
    "transfer": (create_transfer, TransferSettings, {"scheduler_enabled": False}),
    "dedupe": (create_dedupe, DedupeSettings, {"national_enabled": False}),
    "notify": (create_notify, NotifySettings, {}),
}


async def start_one(start_app: Any, name: str) -> Any:
    create, settings, overrides = FACTORIES[name]
    return await start_app(create, settings, **overrides)


async def start_all(start_app: Any) -> Services:
    """Every service, schedulers off (the tests drive no clock), dedupe without the national tier."""
    return Services(
        registry=await start_app(create_registry, RegistrySettings, scheduler_enabled=False),
        transfer=await start_app(create_transfer, TransferSettings, scheduler_enabled=False),
        dedupe=await start_app(create_dedupe, DedupeSettings, national_enabled=False),
        notify=await start_app(create_notify, NotifySettings),
    )
