"""Registry wiring: settings built once, the runtime, routes. Run: uvicorn xueji_registry.app:create_app --factory"""

from __future__ import annotations

from fastapi import FastAPI

from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.runtime import ServiceRuntime
from xueji_registry import api
from xueji_registry.settings import RegistrySettings


def build_runtime(settings: RegistrySettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(
        settings or RegistrySettings(),
        title="xueji registry",
        description="Student status records: enrollment, numbers, lifecycle, permanent history.",
    )
    runtime.publishes(STUDENT_STATUS, StudentStatusRecorded)
    return runtime


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)
    return runtime.http_app([api.router])
