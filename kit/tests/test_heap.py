"""A running service keeps its start-up heap out of garbage collections (issue 19: the collector took 23% of the
registry's and of dedupe's CPU in a bulk import, each full collection walking everything start-up built)."""

from __future__ import annotations

import gc

import pytest

from xueji_kit import runtime
from xueji_kit.runtime import YOUNG_COLLECTION_EVERY, ServiceRuntime
from xueji_kit.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_a_running_service_keeps_its_start_up_heap_out_of_collections_and_collects_less_often(
    isolation, signing_keys
):
    settings = ServiceSettings(**isolation.settings_env(), service_name="heap", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_heap")  # fmt: skip
    thresholds = gc.get_threshold()
    others = bool(runtime._running)  # a service another test left running in this process (none, normally)
    apps = [ServiceRuntime(settings, title="t", description="heap").http_app() for _ in range(2)]
    async with apps[0].router.lifespan_context(apps[0]):
        assert gc.get_freeze_count() > 10_000, "start-up's objects are not walked by every full collection"
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY
        async with apps[1].router.lifespan_context(apps[1]):  # tests run several services in one process
            assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY
        assert gc.get_freeze_count() > 10_000, "another service stopping does not thaw this one's heap"
    if not others:
        assert gc.get_freeze_count() == 0, "once no service runs, everything is collectable again"
    assert gc.get_threshold() == thresholds
