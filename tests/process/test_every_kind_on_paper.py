"""Every strategy kind as the desk runs it, live (issue 85 item 2, the process tier): ONE real paper engine
(`python -m engine run` against the simulator, deciding on events, the desk's default) hosts a strategy of
every kind the desk can run (tests/strategies/kinds.py: the built-ins, the example plugin) on two markets
each, all at once; one boot proves the combination.

- No strategy fails, and none loses a market's state to the decisions on its other market's events: the
  memory each stops with (what it keeps per market, stored at the engine's stop) covers both of its markets,
  watched since the start (a momentum or a breakout that forgot one market at each event of the other was
  still warming up twelve minutes into a live session).
- What each idea says holds live: the kinds that act without waiting for the market to move (quoting,
  laddering, accumulating, betting toward a fair value) trade both of their markets; an accumulation buys
  its target on each market in slices an interval apart, never more.
- Paper and backtest of the same session agree: each configured strategy backtested over the session's
  recording (as the desk trades it: its kind, params and markets) buys what it bought on paper wherever it
  took at the touch (the accumulation's slices: the same fills on the same markets), and trades the same
  markets."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import load_settings
from engine.backtest.runner import BacktestSpec, run_sync
from simulator.testing import SimHandle, approved_simulator
from storage.research.backtest_recording import configured_strategy
from storage.sqlite.db import now_ms
from tests.helpers import EngineProcess, isolated_env, seed_desk, wait_until
from tests.strategies.kinds import EXAMPLES, every_kind

pytestmark = pytest.mark.slow

KINDS = every_kind()
# Each kind's params for a session of a minute (a kind not named here runs on its defaults).
PARAMS: dict[str, dict[str, Any]] = {
    "market_making": {"size": 10, "half_spread": 0.02, "max_spread": 0.5},
    "value_betting": {"max_order": 25, "max_position": 60, "min_confidence": 0},
    "ensemble": {"max_order": 25, "max_position": 60, "min_sources": 1},
    "momentum": {"fast_seconds": 5, "slow_seconds": 30, "warmup_seconds": 5, "threshold": 0.002,
                 "position_size": 10},
    "ladder": {"levels": 2, "spacing": 0.01, "size": 10, "recenter_move": 0.03},
    "accumulate": {"target_shares": 20, "size": 10, "interval_s": 8, "price_cap": 0.97},
    "relative_value": {"warmup_s": 5, "lookback_s": 30, "stale_after_s": 60, "max_spread": 0.5},
    "breakout": {"window_s": 60, "margin": 0.01, "size": 10, "max_spread": 0.2},
    "mid_band": {"size": 10},
}
ACTS_AT_ONCE = ("market_making", "value_betting", "ensemble", "ladder", "accumulate", "mid_band")  # trade both
PAIRED = ("relative_value", "cross_venue_arb")  # trade Polymarket markets paired with Kalshi's
WATCHED = {"momentum": "signals", "breakout": "ranges", "accumulate": "last", "ladder": "anchors"}  # memory tables
LIMITS = {"max_order_rate": "100000", "max_total_exposure": "100000", "max_strategy_exposure": "100000",
          "max_open_orders": "10000", "volatility_reduce": "0", "volatility_halt": "0", "max_slippage": "0.2",
          "error_rate_breaker": "10000", "max_data_age": "600"}
SETTINGS = {"tick_interval_ms": 1000, "decide_on_events": 1, "paper_latency": "zero", "paper_mined_after_ms": 0,
            "record_depth": 20}
SESSION_S = 30  # at least: a few timed passes and many decisions on events between them


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=85, agents=True, markets=8 + 2 * len(KINDS), kalshi_markets=4, sports_delay_s=0,
                            agent_interval_s=0.2, noise_every_s=0.5, politics_news_every_s=5,
                            sports_news_every_s=5) as handle:
        yield handle


def _desk(tmp: Path, sim: SimHandle) -> tuple[EngineProcess, dict[str, list[str]]]:
    """The engine (not started): a strategy of every kind on two standard markets of its own."""
    standard = [m for m in sim.markets() if not m["neg_risk"]]
    assert len(standard) >= 2 * len(KINDS)
    assigned = {kind: [m["condition_id"] for m in standard[2 * n:2 * n + 2]] for n, kind in enumerate(sorted(KINDS))}
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), LOG_LEVEL="WARNING", STRATEGY_PLUGINS_DIR=str(EXAMPLES))
    db = Path(env["TRADER_DB"])
    seed_desk(db, strategies=[(kind, kind, PARAMS.get(kind, {}), markets) for kind, markets in assigned.items()],
              limits=LIMITS, settings=SETTINGS)
    latent = {m["condition_id"]: float(m["latent"]) for m in standard}
    tickers = sorted(sim.call(lambda: [t for t, m in sim.sim.kalshi.exchange.markets.items()
                                       if m.mve_collection is None]))
    with sqlite3.connect(db) as conn:
        for kind in ("value_betting", "ensemble"):  # a fair value 15 points from the market: worth a take
            for cid in assigned[kind]:
                fair = round(min(0.95, max(0.05, latent[cid] + (0.15 if latent[cid] < 0.5 else -0.15))) * 1e6)
                conn.execute("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by)
                                VALUES (?, 'operator', ?, 1, 0, 't')""", (cid, fair))
        pairs = [cid for kind in PAIRED if kind in assigned for cid in assigned[kind]]
        for cid, ticker in zip(pairs, tickers, strict=False):
            conn.execute("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                kalshi_title, warnings, created_at, created_by)
                            VALUES (?, ?, 0, 'q', 'Kalshi q', '[]', 0, 't')""", (cid, ticker))
    return EngineProcess(tmp, env), assigned


def _orders(engine: EngineProcess, name: str) -> dict[str, list[tuple[Any, ...]]]:
    """Its orders by market: (sent at, token, side, price, size, tif, filled)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for cid, *order in engine.rows("SELECT condition_id, created_at, token_id, side, price, size, tif, filled "
                                   "FROM orders WHERE strategy = ? ORDER BY id", name):
        found.setdefault(cid, []).append(tuple(order))
    return found


def _bought(orders: list[tuple[Any, ...]]) -> int:
    return sum(o[6] for o in orders)


def test_one_paper_engine_runs_every_kind_on_several_markets_as_each_alone(tmp_path: Path, sim: SimHandle) -> None:
    engine, assigned = _desk(tmp_path, sim)
    try:
        engine.start()
        started = now_ms()

        def traded() -> bool:
            done = all(all(_orders(engine, kind).get(cid) for cid in assigned[kind])
                       for kind in ACTS_AT_ONCE if kind in assigned)
            accumulated = all(_bought(_orders(engine, "accumulate").get(cid, [])) >= 20_000_000
                              for cid in assigned["accumulate"])
            return done and accumulated and now_ms() - started >= SESSION_S * 1000

        try:
            wait_until(traded, 150, 0.5, "every quoting kind trading both of its markets, the targets bought")
        except AssertionError:
            raise AssertionError({kind: {cid[:8]: (len(orders), _bought(orders)) for cid, orders in
                                         _orders(engine, kind).items()} for kind in ACTS_AT_ONCE}) from None
        assert engine.terminate() == 0  # (the stop stores each strategy's memory)
    finally:
        engine.cleanup()
    failed = engine.rows("SELECT name, last_error FROM strategies WHERE enabled = 0 OR status = 'error'")
    assert failed == [], failed
    start, end = engine.rows("SELECT MIN(at), MAX(at) FROM ticks")[0]
    _kept_every_market(engine, assigned, start)
    acc = _orders(engine, "accumulate")
    for cid in assigned["accumulate"]:  # its interval per market, its target and no more
        sent = [o[0] for o in acc[cid]]
        assert all(b - a >= 8_000 for a, b in zip(sent, sent[1:], strict=False)), sent
        assert _bought(acc[cid]) == 20_000_000, acc[cid]
    _paper_and_backtest_agree(tmp_path, engine, assigned, start, end)


def _kept_every_market(engine: EngineProcess, assigned: dict[str, list[str]], start: int) -> None:
    """What each kind keeps per market, as it stopped: both of its markets, the records from the start."""
    stored = {name: json.loads(text) for name, text in engine.rows("SELECT strategy, memory FROM strategy_memory")}
    for kind, table in WATCHED.items():
        kept = stored[kind][table]
        assert set(kept) == set(assigned[kind]), (kind, sorted(kept))
        for cid, record in kept.items():  # a watch kept since the start, not begun again at the last event
            if isinstance(record, dict) and "first_ms" in record:
                assert record["first_ms"] - start < 15_000, (kind, cid, record["first_ms"] - start)


def _paper_and_backtest_agree(tmp: Path, engine: EngineProcess, assigned: dict[str, list[str]], start: int,
                              end: int) -> None:
    """Each configured strategy backtested over the session, as the desk trades it."""
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(engine.db_path)})
    for kind in ("accumulate", "market_making", "ladder", "value_betting"):
        found = configured_strategy(engine.db_path, kind, "recorded", start, end, end)
        assert found is not None and set(found.markets) == set(assigned[kind])
        spec = BacktestSpec(found.kind, found.params, start, end, found.markets, seed=5, latency="zero")
        result = run_sync(spec, engine.db_path, settings, work_dir=tmp / f"bt-{kind}")
        replayed: dict[str, list[dict[str, Any]]] = {}
        for order in result.orders:
            replayed.setdefault(order["condition_id"], []).append(order)
        paper = _orders(engine, kind)
        assert set(replayed) == set(paper), (kind, sorted(replayed), sorted(paper))  # the same markets traded
        if kind == "accumulate":  # the same slices (a take at the touch fills as live's), the same target
            for cid in assigned[kind]:
                assert [(o["side"], o["size"], o["filled"]) for o in replayed[cid]] == \
                    [(o[2], o[4], o[6]) for o in paper[cid]], cid
                # (at prices within a cent: live decided on each book as it arrived, the replay as it was recorded)
                assert all(abs(o["price"] - p[3]) <= 10_000 for o, p in zip(replayed[cid], paper[cid], strict=True))
