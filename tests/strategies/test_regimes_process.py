"""Regime control where a trader meets it: a real engine paper-trading the simulator with a
market maker under regime control, its reference price feed a WebSocket served from this test on
127.0.0.1. Silent source: stale, nothing quoted; steady prices: calm, the calm size; prices
jumping: fast, the fast size; silent again: stale, the quotes withdrawn. Each change is a note in
the decisions log naming the regime."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.server import ServerConnection, serve

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, isolated_env, seed_desk, wait_until

pytestmark = pytest.mark.slow

PARAMS = {"size": 10, "half_spread": 0.02, "refresh_threshold": 0.005, "regime_control": True,
          "regime_window_s": 20, "fast_volatility": 0.03, "stale_after_s": 3, "fast_half_spread": 0.04,
          "fast_size": 5, "stale_size": 0}
MARKETS = {"filter": {"max_markets": 1, "sort": "liquidity"}}


class ReferenceSource:
    """A WebSocket reference feed sending `prices` (condition id -> list of prices, cycled) to
    every client every 0.2 s; empty: silent."""

    def __init__(self) -> None:
        self.prices: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self.server = serve(self._client, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _client(self, ws: ServerConnection) -> None:
        step = 0
        while not self._stop.wait(0.2):
            batch = [{"condition_id": cid, "price": cycle[step % len(cycle)]}
                     for cid, cycle in list(self.prices.items()) if cycle]
            step += 1
            if batch:
                ws.send(json.dumps(batch))

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture
def source() -> Iterator[ReferenceSource]:
    src = ReferenceSource()
    src.thread.start()
    try:
        yield src
    finally:
        src.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=11) as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def _notes(engine: EngineProcess) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in _rows(engine, "SELECT condition_id, reason, detail FROM decisions "
                                            "WHERE action = 'note' AND strategy = 'mm' ORDER BY id")]


def _open_sizes(engine: EngineProcess) -> set[int]:
    return {size for (size,) in _rows(engine, "SELECT size FROM orders WHERE strategy = 'mm' AND status IN "
                                              "('LIVE', 'PARTIALLY_FILLED', 'PENDING_SUBMIT')")}


def test_the_reference_regime_chooses_the_quotes_and_the_log_names_it(tmp_path: Path, sim: SimHandle,
                                                                       source: ReferenceSource) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port), LOG_LEVEL="WARNING")
    seed_desk(Path(env["TRADER_DB"]), strategies=[("mm", "market_making", PARAMS, MARKETS)],
              settings={"reference_feed_url": f"ws://127.0.0.1:{source.port}"})
    engine = EngineProcess(tmp_path, env)
    try:
        engine.start()
        [(cid, reason, detail)] = wait_until(lambda: _notes(engine), 30, 0.1, what="the first regime note")
        assert reason == "REGIME_STALE" and "no reference price" in detail
        assert _open_sizes(engine) == set()  # stale quotes nothing (stale_size 0)

        source.prices = {cid: ["0.50"]}
        wait_until(lambda: _notes(engine)[-1][1] == "REGIME_CALM", 20, 0.1, what="calm")
        wait_until(lambda: _open_sizes(engine) == {10_000_000}, 20, 0.1, what="calm quotes of 10 shares")

        source.prices = {cid: ["0.50", "0.60"]}  # a 0.10 move every 0.2 s: far past 0.03
        wait_until(lambda: _notes(engine)[-1][1] == "REGIME_FAST", 20, 0.1, what="fast")
        assert "regime fast" in _notes(engine)[-1][2]
        wait_until(lambda: _open_sizes(engine) == {5_000_000}, 20, 0.1, what="fast quotes of 5 shares")

        source.prices = {}  # silent: stale after 3 s
        wait_until(lambda: _notes(engine)[-1][1] == "REGIME_STALE", 20, 0.1, what="stale again")
        wait_until(lambda: _open_sizes(engine) == set(), 20, 0.1, what="quotes withdrawn")
        assert [reason for _, reason, _ in _notes(engine)] == ["REGIME_STALE", "REGIME_CALM", "REGIME_FAST",
                                                               "REGIME_STALE"]
    finally:
        engine.cleanup()
