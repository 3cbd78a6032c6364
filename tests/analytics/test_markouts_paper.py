"""Markouts through a real paper engine: the trading core in-process against the simulator,
its recorder writing the mids, its markout job completing each fill's horizons from them on an
injected clock. A restarted job (a fresh MarkoutJob, as after a crash) picks up what is left."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.settings import load_settings
from engine.analytics.markout_job import MarkoutJob
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.research import markout_frames
from storage.research import markout_queries as q
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

pytestmark = pytest.mark.slow
SH = 1_000_000
WAIT_S = 20  # bound on every poll (a loaded machine); each returns as soon as its condition holds


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=23, agents=False, prefill_books=True, maintenance_schedule="off") as handle:
        yield handle


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def paper_core(tmp: Path, sim: SimHandle, clock: list[int], cids: list[str]) -> TradingCore:
    """A paper core with one strategy ("hand") on `cids` that never quotes (its max spread is
    below the tick): the test places its orders by hand."""
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('hand', 'market_making', :p, :m, 1, :t, :t, 'test')"""),
                     {"p": json.dumps({"size": 20, "max_spread": 0.001}), "m": json.dumps(cids), "t": now_ms()})
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db, clock=lambda: clock[0])


async def started(core: TradingCore, token: str) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()  # the test drives the core by hand
    await until(lambda: core.books.book(token) is not None, "the first book")
    await core.tick()  # the risk context covers the strategy's market


async def mark_time(core: TradingCore, at: int) -> None:
    """The recorder's history reaches `at` (a decision marker there), written to the database."""
    assert core.recorder is not None
    core.recorder.mark_decision(at)
    await core.recorder.flush()


def yes_mid(core: TradingCore, token: str) -> int:
    book = core.books.book(token)
    assert book is not None and book.mid is not None
    return book.mid


def test_a_paper_fill_gets_its_1s_and_10s_markouts_then_60s_after_a_restart(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False)
    cid, yes = market["condition_id"], market["yes_token_id"]
    sim.set_latent(cid, 0.5)
    sim.step_agents(10)  # the agent maker's ladder centres on 0.5
    t0 = 1_800_000_000_000
    clock = [t0]
    core = paper_core(tmp_path, sim, clock, [cid])
    found: dict[str, object] = {}

    async def scenario() -> None:
        await started(core, yes)
        book = core.books.book(yes)
        assert book is not None and book.best_ask is not None
        found["ask"], found["mid_at_fill"] = book.best_ask.price, yes_mid(core, yes)
        core.executor.set_intents([Intent("hand", cid, (Quote(Side.BUY, book.best_ask.price, 20 * SH, Tif.FAK),))])
        await core.executor.reconcile()
        core.executor.drain()
        # News 5 s later: the true probability jumps to 0.7 and the maker re-centres on it.
        clock[0] = t0 + 5_000
        sim.set_latent(cid, 0.7)
        sim.step_agents(10)
        await until(lambda: yes_mid(core, yes) >= 650_000, "the re-centred book")
        found["mid_after"] = yes_mid(core, yes)
        await mark_time(core, t0 + 11_000)
        found["first_pass"] = core.markouts.run(t0 + 11_000)
        clock[0] = t0 + 61_000
        await mark_time(core, t0 + 61_000)
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        fill_id, price, size, matched_at = conn.execute(text(
            "SELECT id, price, size, matched_at FROM fills WHERE strategy = 'hand'")).one()
    assert (price, size, matched_at) == (found["ask"], 20 * SH, t0)
    assert found["first_pass"] == 2  # 1 s and 10 s: the 60 s horizon is ahead of the history
    first = q.fill_markouts(core.db, fill_id)
    mid_at_fill, mid_after = found["mid_at_fill"], found["mid_after"]
    assert isinstance(mid_at_fill, int) and isinstance(mid_after, int)
    # +1 s: the mid had not moved (bought at the ask: the half-spread paid); +10 s: it had.
    assert first == {"1s": (mid_at_fill, (mid_at_fill - price) * 20),
                     "10s": (mid_after, (mid_after - price) * 20)}
    assert first["1s"][1] < 0 < first["10s"][1]
    restarted = MarkoutJob(core.db)  # as after a crash: nothing in memory
    assert restarted.run(t0 + 61_000) == 1
    assert q.fill_markouts(core.db, fill_id)["60s"] == (mid_after, (mid_after - price) * 20)
    assert restarted.run(t0 + 62_000) == 0 and MarkoutJob(core.db).run(t0 + 62_000) == 0  # final: written once
    per_strategy, per_market = markout_frames.markout_tables(core.db, "paper")
    market_columns = ["condition_id", "market", "venue"]  # "—" in the per-strategy table
    assert (per_strategy[market_columns] == "—").all().all()
    assert per_strategy.drop(columns=market_columns).equals(
        per_market.drop(columns=market_columns))  # one market: the same figures
    row = per_market.iloc[0]
    assert row["condition_id"] == cid
    assert (row["strategy"], row["fills"], row["fills_10s"]) == ("hand", 1, 1)
    assert row["usdc_10s"] == (mid_after - price) * 20 / SH
    assert row["bps_10s"] == pytest.approx((mid_after - price) * 20 * 10_000 / (price * 20))
    core.db.dispose()
