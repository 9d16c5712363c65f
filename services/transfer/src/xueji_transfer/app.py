"""Transfer wiring: settings built once, the runtime, consumers, routes.
Run: uvicorn xueji_transfer.app:create_app --factory"""

from __future__ import annotations

from fastapi import FastAPI

from xueji_kit.runtime import ServiceRuntime
from xueji_transfer.settings import TransferSettings


def build_runtime(settings: TransferSettings | None = None) -> ServiceRuntime:
    return ServiceRuntime(
        settings or TransferSettings(),
        title="xueji transfer",
        description="Transfer cases: the 8-step approval chain, SLA timers, offline acceptance.",
    )


def create_app(settings: TransferSettings | None = None) -> FastAPI:
    return build_runtime(settings).http_app()
