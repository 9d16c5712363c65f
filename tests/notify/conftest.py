"""Notify's system-test fixtures: the service on a real loopback port (uvicorn), and Debian's Chromium.

The browser is /usr/bin/chromium driven by Playwright for Python; no tool downloads a browser of its own
(scripts/install-browser.sh installs Chromium; tests that need it are skipped with the reason without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from common import free_port

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "notify" / "tests"))  # notify_events: contract messages
sys.path.insert(0, str(Path(__file__).resolve().parent))
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".local" / "screenshots"  # git-ignored
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]  # fmt: skip


class LiveService:
    def __init__(self, app: Any, base_url: str) -> None:
        self.app = app
        self.base_url = base_url


@pytest.fixture
async def serve(isolation: Any, signing_keys: tuple[str, str]) -> AsyncIterator[Callable[..., Any]]:
    """serve(create_app, SettingsCls, **overrides) -> the app listening on 127.0.0.1 (lifespan, consumers live)."""
    import uvicorn

    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(create_app: Callable[..., Any], settings_cls: type, port: int = 0, **overrides: Any) -> LiveService:
        settings = settings_cls(
            **{
                **isolation.settings_env(),
                "mongodb_database": f"{isolation.database}_{settings_cls.__name__}",
                "jwt_public_key": signing_keys[1],
                "relay_interval_seconds": 0.05,
                **overrides,
            }
        )
        app = create_app(settings)
        port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        for _ in range(200):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        return LiveService(app, f"http://127.0.0.1:{port}")

    try:
        yield start
    finally:
        for server, _ in servers:
            server.should_exit = True
        for _, task in servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once per session)
        message = "Debian's chromium is not installed: run scripts/install-browser.sh (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a skipped browser test would hide a broken install step
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(chromium: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh browser context (its own storage) and page; console errors fail the test."""
    context = await chromium.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                                         timezone_id="Asia/Shanghai")  # fmt: skip
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    try:
        yield page
    finally:
        await context.close()
    assert not errors, f"the page reported errors: {errors}"


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[Any]:
    """receiver(script) -> a signed-webhook receiver on loopback HTTPS (webhook_receiver.Receiver); `receiver.cert`
    is the certificate notify must trust (XUEJI_WEBHOOK_CA_FILE)."""
    from webhook_receiver import Receiver, self_signed

    cert, key = self_signed(tmp_path)
    made: list[Any] = []

    async def start(script: dict[str, list[str]]) -> Receiver:
        r = Receiver(script, slow_seconds=2.5)
        made.append(await r.serve(cert, key))
        return r

    start.cert = cert  # type: ignore[attr-defined]
    yield start
    for server, task in made:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
