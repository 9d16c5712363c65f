# syntax=docker/dockerfile:1.7
# Any of the four xueji services; SERVICE names which. Build from the repository root:
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=registry -t xueji-registry .
# (SERVICE is registry, transfer, dedupe or notify; docker-compose.yml passes it for each.)
ARG SERVICE

FROM python:3.11.14-slim-bookworm AS build
ARG SERVICE
COPY --from=ghcr.io/astral-sh/uv:0.9.5 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY contracts contracts
COPY kit kit
COPY services services
RUN test -f "services/${SERVICE}/pyproject.toml" || { echo "build with --build-arg SERVICE=<registry|transfer|dedupe|notify>"; exit 1; }
RUN uv sync --frozen --no-dev --no-editable --package xueji-${SERVICE}

FROM python:3.11.14-slim-bookworm
ARG SERVICE
LABEL org.opencontainers.image.title="xueji-${SERVICE}" \
      org.opencontainers.image.description="xueji ${SERVICE} service" \
      org.opencontainers.image.source="https://example.invalid/xueji" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 xueji && useradd --system --uid 10001 --gid xueji --no-create-home xueji
COPY --from=build /app/.venv /app/.venv
# The exec-form CMD below cannot see a build argument; the app to run is kept in the image's environment instead.
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 XUEJI_LOG_FORMAT=json \
    SERVICE_APP=xueji_${SERVICE}.app:create_app
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
# exec: uvicorn replaces the shell, so it is PID 1 and gets the SIGTERM of a stop.
# Keep-alive 75 s, above the idle time of any client that reuses connections (ingress-nginx upstream keep-alive 60 s,
# httpx 5 s): a server closing an idle connection as the client reuses it resets that request (uvicorn's 5 s default).
CMD ["sh", "-c", "exec uvicorn \"$SERVICE_APP\" --factory --host 0.0.0.0 --port 8080 --no-access-log --timeout-graceful-shutdown 10 --timeout-keep-alive 75"]
