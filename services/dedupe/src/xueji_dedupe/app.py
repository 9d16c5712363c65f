"""Dedupe wiring: settings built once, the runtime, consumers, routes.
Run: uvicorn xueji_dedupe.app:create_app --factory"""

from __future__ import annotations

from fastapi import FastAPI

from xueji_dedupe.settings import DedupeSettings
from xueji_kit.runtime import ServiceRuntime


def build_runtime(settings: DedupeSettings | None = None) -> ServiceRuntime:
    return ServiceRuntime(
        settings or DedupeSettings(),
        title="xueji dedupe",
        description="One person, one number: exact and fuzzy duplicate detection, county review queue.",
    )


def create_app(settings: DedupeSettings | None = None) -> FastAPI:
    return build_runtime(settings).http_app()
