"""The collector settings a serving worker gets, and the pause around large batches."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from shared.inbound.gcpause import YOUNG_GENERATION_OBJECTS, collector_paused, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """Whatever a test does to the collector is undone after it."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


@pytest.mark.usefixtures("restored_collector")
def test_what_startup_built_is_frozen_and_young_collections_are_rarer() -> None:
    """After tuning, live objects are in the permanent generation and the young
    threshold is raised; the older generations' thresholds are kept."""
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    built_at_startup = [object() for _ in range(10)]
    tune_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_GENERATION_OBJECTS, 10, 10)
    assert built_at_startup  # alive across the freeze


@pytest.mark.usefixtures("restored_collector")
def test_the_pause_nests_across_threads_and_restores_the_collector() -> None:
    """The collector stays off while any batch is parsed, and comes back as it was."""
    gc.enable()
    inner_started, inner_may_end = threading.Event(), threading.Event()

    def other_batch() -> None:
        with collector_paused():
            inner_started.set()
            inner_may_end.wait(5)

    with collector_paused():
        worker = threading.Thread(target=other_batch)
        worker.start()
        inner_started.wait(5)
    assert not gc.isenabled()  # the other thread's batch is still being parsed
    inner_may_end.set()
    worker.join(5)
    assert gc.isenabled()
