from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desk import Desk, make_desk
from tests.helpers import EngineProcess, isolated_env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that take minutes by design (the 3-minute heartbeat session) go first: a parallel
    run starts them at once instead of finding them last, with every other worker idle."""
    items.sort(key=lambda item: item.get_closest_marker("runs_long") is None)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path)


@pytest.fixture
def engine(tmp_path: Path, env: dict[str, str]) -> Iterator[EngineProcess]:
    """A real engine subprocess on a temp database, stopped after the test."""
    proc = EngineProcess(tmp_path, env)
    try:
        yield proc
    finally:
        proc.cleanup()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    """A paper desk on a temp database (see tests/desk.py)."""
    d = make_desk(tmp_path / "desk.db")
    yield d
    d.loop.close()
    d.db.dispose()
