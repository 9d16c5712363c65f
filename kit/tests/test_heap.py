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


async def test_a_batch_in_flight_is_not_walked_by_young_collections(isolation, signing_keys):
    """A batch of 500 students keeps tens of thousands of objects alive while its store round trips are awaited; a
    young collection walks every one of them and finds nothing to free (issue 19: 2.2 s of the registry's CPU in a
    30,000-student import). A batch's worth of live objects triggers no collection."""
    settings = ServiceSettings(**isolation.settings_env(), service_name="heap", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_heap")  # fmt: skip
    app = ServiceRuntime(settings, title="t", description="heap").http_app()
    collections: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    async with app.router.lifespan_context(app):
        gc.collect()
        gc.callbacks.append(counted)
        try:
            in_flight = [{"student": i, "fields": [i]} for i in range(25_000)]  # 50,000 live containers
        finally:
            gc.callbacks.remove(counted)
        assert len(in_flight) == 25_000
        assert collections == [], f"young collections walked a batch in flight: generations {collections}"
