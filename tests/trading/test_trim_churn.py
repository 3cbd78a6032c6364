"""A quote the risk gate trims keeps its queue: two real engine processes trade paper side by side
on the same moving simulator markets with the demo market maker (size 20), one under a max order
size of 16. Placements per minute under the trim stay within 1.5x of the untrimmed engine's
(once: 85-109 a minute against 10-20, each trimmed quote replaced every tick)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.cli.seed import DEMO_MARKETS, DEMO_PARAMS
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import now_ms
from tests.helpers import EngineProcess, paper_desk, wait_until

pytestmark = pytest.mark.slow
WARM_UP_S = 4  # first quotes placed on every market before the count starts
WINDOW_S = 24
SLACK_PER_MIN = 5  # a couple of re-quotes either way in a short window is noise, not churn


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=31, agents=True, agent_interval_s=0.1, markets=10) as handle:  # its measured scenario
        yield handle


def _engine(tmp: Path, sim: SimHandle, max_order_size: str | None) -> EngineProcess:
    tmp.mkdir()
    return paper_desk(tmp, sim, [("demo", "market_making", DEMO_PARAMS, DEMO_MARKETS)],
                      limits=None if max_order_size is None else {"max_order_size": max_order_size})


def _rows(engine: EngineProcess, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def _placed_between(engine: EngineProcess, start: int, end: int) -> int:
    return int(_rows(engine, "SELECT COUNT(*) FROM orders WHERE created_at >= ? AND created_at < ?",
                     start, end)[0][0])


def test_a_trimmed_quote_keeps_its_queue(tmp_path: Path, sim: SimHandle) -> None:
    plain = _engine(tmp_path / "plain", sim, None)
    trimmed = _engine(tmp_path / "trimmed", sim, "16")
    try:
        for engine in (plain, trimmed):
            engine.start(wait=False)  # both boot at once
        for engine in (plain, trimmed):
            engine.wait_alive(30)
            wait_until(lambda e=engine: _placed_between(e, 0, now_ms() + 1) > 0, 30, 0.2,  # type: ignore[misc]  # the engine bound per loop turn
                       what="the first quotes")
        time.sleep(WARM_UP_S)
        start = now_ms()
        time.sleep(WINDOW_S)
        end = now_ms()
        per_min = 60_000 / (end - start)
        untrimmed_rate = _placed_between(plain, start, end) * per_min
        trimmed_rate = _placed_between(trimmed, start, end) * per_min
        sizes = {size for (size,) in _rows(trimmed, "SELECT DISTINCT size FROM orders")}  # (a SELL of fewer held)
        markets = [len(_rows(e, "SELECT DISTINCT condition_id FROM orders")) for e in (plain, trimmed)]
    finally:
        for engine in (plain, trimmed):
            engine.cleanup()
    assert untrimmed_rate > 0, "the market did not move: nothing was measured"
    assert markets[0] == markets[1] >= 2  # the same markets, quoted by both
    assert max(sizes) == 16_000_000  # the trim was in force throughout
    assert trimmed_rate <= 1.5 * untrimmed_rate + SLACK_PER_MIN, (
        f"placements per minute: {trimmed_rate:.1f} trimmed against {untrimmed_rate:.1f} untrimmed")
