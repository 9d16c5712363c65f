"""Work a service started behind a handler's answer is finished on a stop while the store is still there; a hook
that fails does not stop the stop."""

from __future__ import annotations

import pytest

from xueji_kit.runtime import ServiceRuntime
from xueji_kit.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_stopping_hooks_run_before_the_store_closes_and_a_failing_one_does_not_stop_the_stop(
    isolation, signing_keys
):
    settings = ServiceSettings(**isolation.settings_env(), service_name="stopping", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_stopping")  # fmt: skip
    runtime = ServiceRuntime(settings, title="t", description="stopping")
    app = runtime.http_app()
    seen: list[str] = []

    async def failing() -> None:
        seen.append("failing")
        raise RuntimeError("left for the restart")

    async def finishing() -> None:
        await runtime.db["behind"].insert_one({"_id": "finished on the stop"})
        seen.append("finishing")

    runtime.stopping_hooks += [failing, finishing]
    async with app.router.lifespan_context(app):
        pass
    assert seen == ["failing", "finishing"]
    check = ServiceRuntime(settings, title="t", description="stopping")
    check_app = check.http_app()
    async with check_app.router.lifespan_context(check_app):
        assert await check.db["behind"].find_one({"_id": "finished on the stop"}) is not None
