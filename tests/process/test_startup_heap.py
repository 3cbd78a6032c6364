"""The engine freezes its start-up heap once booted, so full garbage collections skip it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from engine.process.heap import freeze_startup_heap
from tests.helpers import EngineProcess, wait_until


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def unfrozen_after() -> Iterator[None]:
    yield
    gc.unfreeze()  # the test process's heap goes back to the collector


def test_the_heap_is_frozen_and_later_cycles_are_still_collected(unfrozen_after: None) -> None:
    kept = Node()
    frozen = freeze_startup_heap()
    assert frozen > 0 and gc.get_freeze_count() == frozen
    # What start-up made is out of the collections: a full one no longer counts it.
    assert all(obj is not kept for obj in gc.get_objects())

    made_later = Node()
    gone = weakref.ref(made_later)
    del made_later
    gc.collect()
    assert gone() is None, "cyclic garbage made after the freeze must still be collected"


def test_a_booted_engine_says_it_froze_its_heap(engine: EngineProcess) -> None:
    engine.start()
    wait_until(lambda: "froze the start-up heap" in engine.log(), timeout=30)
