"""What every service's HTTP side has: health, readiness, metrics, correlation ids, clear errors."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.errors import PyMongoError
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from xueji_kit.edge import STORE_RETRY_AFTER_SECONDS, BodyGuard
from xueji_kit.errors import RuleRefused, describe_errors
from xueji_kit.idempotency import IdempotentRetries
from xueji_kit.logs import bind_correlation
from xueji_kit.metrics import HTTP_REQUESTS
from xueji_kit.store import store_away

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


class CorrelationMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        correlation = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        request.state.correlation_id = correlation
        bind_correlation(correlation)
        response = await call_next(request)
        response.headers["x-correlation-id"] = correlation
        route = request.scope.get("route")
        HTTP_REQUESTS.labels(request.method, getattr(route, "path", "unmatched"), str(response.status_code)).inc()
        return response


def allow_cross_origin(app: FastAPI, origins: Sequence[str]) -> None:
    """The workbench's pages, served from another origin, may call this API: only from those origins, with the
    token in the Authorization header (no cookies, so no credentials mode and no CSRF surface)."""
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-Id"],
        expose_headers=["X-Correlation-Id", "Content-Disposition", "Retry-After"],  # a 503 says when to retry
        allow_credentials=False,
        max_age=600,
    )


def add_operational_routes(app: FastAPI, ready: ReadinessCheck) -> None:
    app.add_middleware(IdempotentRetries)  # innermost: sees the body BodyGuard let through, and the route's answer
    app.add_middleware(BodyGuard)  # size, UTF-8 and control characters, before any route reads a body
    app.add_middleware(CorrelationMiddleware)
    describe_errors(app)  # the OpenAPI document names the error answers as the services give them

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: Kafka and MongoDB answer",
        responses={503: {"description": "not ready: the checks say which dependency failed"}},
    )
    async def readyz() -> JSONResponse:
        checks = await ready()
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, 200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {"description": "text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}
        },
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(RuleRefused)
    async def rule_refused(_: Request, exc: RuleRefused) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": field_problems(exc.errors())}, status_code=422)

    @app.exception_handler(PyMongoError)
    async def store_unavailable(request: Request, exc: PyMongoError) -> JSONResponse:
        if not store_away(exc):
            return await unexpected(request, exc)
        # The store is away or out of time (an outage, a failover, a silent path, a stall): a retry later gets a
        # real answer (writes are idempotent per cause).
        correlation: Any = getattr(request.state, "correlation_id", None)
        return JSONResponse(
            {"detail": f"store unavailable, retry later; correlation id {correlation}"},
            status_code=503,
            headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never a bare 500 page: say what failed and how to find it in the logs.
        correlation: Any = getattr(request.state, "correlation_id", None)
        return JSONResponse(
            {"detail": f"internal error ({type(exc).__name__}); correlation id {correlation}"},
            status_code=500,
        )


def field_problems(errors: Any) -> list[dict[str, str]]:
    """Each problem as the field it concerns and the reason, without echoing the input (it may hold an ID)."""
    problems = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ())]
        where = location[0] if location and location[0] in {"body", "query", "path", "header"} else "body"
        field = ".".join(location[1:] if location and location[0] == where else location) or "<request>"
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append({"field": field, "reason": reason, "in": where})
    return problems
