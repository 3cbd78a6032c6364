from __future__ import annotations

import functools
import multiprocessing.process
import os
import re
import subprocess
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.kalshi.conformance import ENV as KALSHI_CONFORMANCE_ENV
from tests.desk import Desk, make_desk
from tests.helpers import EngineProcess, isolated_env

# Every answer the simulator's Kalshi side serves in any test, in this process or a child's, is checked
# against Kalshi's published schemas (simulator/kalshi/conformance.py); each problem is a line of this
# file (one a test process: xdist's workers each have theirs), and the test running then fails with it.
KALSHI_PROBLEMS = Path(tempfile.gettempdir()) / f"kalshi-conformance-{os.getpid()}.log"
os.environ[KALSHI_CONFORMANCE_ENV] = str(KALSHI_PROBLEMS)


@pytest.fixture(autouse=True)
def _kalshi_answers_conform(request: pytest.FixtureRequest) -> Iterator[None]:
    start = KALSHI_PROBLEMS.stat().st_size if KALSHI_PROBLEMS.exists() else 0
    yield
    if request.node.get_closest_marker("kalshi_off_schema") is not None:
        return  # the test serves hostile answers on purpose
    if KALSHI_PROBLEMS.exists() and KALSHI_PROBLEMS.stat().st_size > start:
        with KALSHI_PROBLEMS.open(encoding="utf-8") as told:
            told.seek(start)
            found = told.read().splitlines()
        pytest.fail(f"the simulator's Kalshi side answered outside Kalshi's published schema ({len(found)}): "
                    + "; ".join(found[:10]), pytrace=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    KALSHI_PROBLEMS.unlink(missing_ok=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start processes or servers join the process tier (the `slow` marker); tests that
    take minutes by design (the heartbeat session) go first: a parallel run starts them at once
    instead of finding them last, with every other worker idle."""
    for item in items:
        if item.get_closest_marker(PROCESS_TIER) is None and _process_tier(item):
            item.add_marker(PROCESS_TIER)
    items.sort(key=lambda item: item.get_closest_marker("runs_long") is None)


# What puts a test in the process tier without its marker: a module that starts programs (the
# engine, the CLI, the simulator's process, git, supervisord), a fixture that serves a simulator
# or an engine, or a folder of tests that run the dashboard's pages (Streamlit's script runner:
# seconds a page). What this misses, the guard below catches (the test fails, saying so).
PROCESS_FOLDERS = frozenset({"dashboard", "browser", "process"})
STARTS_PROGRAMS = re.compile(r"run_cli\(|EngineProcess\(|subprocess\.|Popen|create_subprocess|multiprocessing|"
                             r"paper_desk\(|live_desk\(|supervisor_harness|tests\.pg\b")
SERVING_FIXTURES = frozenset({"engine", "sim", "lossy", "server_process"})


def _process_tier(item: pytest.Item) -> bool:
    return (item.path.parent.name in PROCESS_FOLDERS or bool(SERVING_FIXTURES & set(getattr(item, "fixturenames", ())))
            or _starts_programs(str(item.path)))


@functools.cache
def _starts_programs(path: str) -> bool:
    try:
        return STARTS_PROGRAMS.search(Path(path).read_text(encoding="utf-8")) is not None
    except OSError:
        return False


PROCESS_TIER = "slow"  # the marker of the process tier: `make test-process` runs these, `make test-fast` the rest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, None]:
    """The fast tier starts no process: a test not marked for the process tier that starts one
    (an engine, a simulator, the CLI, a browser), in its fixtures or its body, fails saying so."""
    if item.get_closest_marker(PROCESS_TIER) is not None:
        yield
        return
    popen, start = subprocess.Popen.__init__, multiprocessing.process.BaseProcess.start

    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{item.nodeid} starts a process: mark it `pytest.mark.{PROCESS_TIER}` (the process "
                             "tier, `make test-process`); the fast tier starts none")

    subprocess.Popen.__init__ = refused  # type: ignore[method-assign]  # restored below, whatever the test does
    multiprocessing.process.BaseProcess.start = refused  # type: ignore[method-assign]  # restored below too
    try:
        yield
    finally:
        subprocess.Popen.__init__ = popen  # type: ignore[method-assign]  # the original put back
        multiprocessing.process.BaseProcess.start = start  # type: ignore[method-assign]  # the original put back


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
