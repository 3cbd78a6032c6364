"""The paper half of the pick-off test: a scripted news jump in the simulator picks off a stale
resting quote of the desk in paper exactly as the simulator's book picks off the same quote
resting there for real (tests/simulator/test_news.py is the venue half), and the desk's fill
shows a negative markout.

Twin runs on the same seed and the same steps: in one the quote (BUY 20 at 0.50 while the
market is 0.49 / 0.51) rests in the simulator's book as a real client's order; in the other
it rests on the desk's paper venue. News drops the true probability to 0.2, public two seconds
later; the informed takers sell ahead of and at the jump. Both quotes fill, at the same agent
step, at 0.50, for the same size. The paper engine runs on an injected clock that moves with
the agents' steps, so the markout horizons are exact."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from py_clob_client_v2 import OrderArgs, PartialCreateOrderOptions

from contracts.domain import Intent, Quote, Side, Tif
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.research import markout_queries as q
from tests.analytics.test_markouts_paper import SH, mark_time, paper_core, until, yes_mid
from tests.simulator.conftest import deposit_client

pytestmark = pytest.mark.slow
STEP_S = 0.5
SETTINGS: dict[str, Any] = dict(agents=False, prefill_books=True, agent_interval_s=STEP_S, maintenance_schedule="off")
SEED, STEPS, NEWS_P, LEAD_S = 23, 8, 0.2, 2.0


def _prepare(sim: SimHandle) -> tuple[dict[str, Any], dict[str, Any]]:
    """The news market centred on 0.5, and a second market whose book the test uses as a
    barrier (a level placed there reaches the desk after everything sent before it)."""
    market, sentinel = sim.market(neg_risk=False), sim.market(neg_risk=False, index=1)
    sim.set_latent(market["condition_id"], 0.5)
    sim.step_agents(10)
    return market, sentinel


def _script(sim: SimHandle, market: dict[str, Any], after_step: Callable[[int], bool]) -> tuple[int, int]:
    """The news, then agent steps until `after_step(step)` says the quote filled; returns (the
    step it filled at, the step the news became public)."""
    news = sim.news(market["condition_id"], NEWS_P, lead_s=LEAD_S)
    public_step = round((news["public_at"] - news["known_at"]) / STEP_S)
    for step in range(1, STEPS + 1):
        sim.step_agents()
        if after_step(step):
            return step, public_step
    raise AssertionError(f"the quote was not picked off within {STEPS} steps")


def _venue_run() -> tuple[int, int, int]:
    """The quote resting in the simulator's book: (fill step, matched size, public step)."""
    with approved_simulator(seed=SEED, **SETTINGS) as sim:
        market, _ = _prepare(sim)
        client, wallet = deposit_client(sim)
        sim.fund(wallet, pusd="100")
        opts = PartialCreateOrderOptions(tick_size=market["tick_size"], neg_risk=False)
        resp = client.post_order(client.create_order(
            OrderArgs(token_id=market["yes_token_id"], price=0.50, size=20, side="BUY"), opts))
        assert resp["status"] == "live"
        order_id = resp["orderID"]

        def matched() -> int:
            return sim.call(lambda: sim.sim.exchange.orders[order_id].matched)

        step, public_step = _script(sim, market, lambda _: matched() > 0)
        return step, matched(), public_step


def test_a_news_jump_picks_off_the_desks_stale_paper_quote_as_the_book_would(tmp_path: Path) -> None:
    venue_step, venue_size, public_step = _venue_run()
    assert venue_step <= public_step  # ahead of or at the jump, as tests/simulator/test_news.py
    with approved_simulator(seed=SEED, **SETTINGS) as sim:
        market, sentinel = _prepare(sim)
        cid, yes = market["condition_id"], market["yes_token_id"]
        t0 = 1_800_000_000_000
        clock = [t0]
        core = paper_core(tmp_path, sim, clock, [cid, sentinel["condition_id"]])
        found: dict[str, Any] = {}

        async def scenario() -> None:
            await started(core, yes, sentinel["yes_token_id"])
            core.executor.set_intents([Intent("hand", cid, (Quote(Side.BUY, 500_000, 20 * SH, Tif.GTC),))])
            await core.executor.reconcile()
            core.executor.drain()
            barrier = {"size": 0}

            async def seen_by_the_desk() -> None:
                """Everything the simulator sent so far has reached the desk's feed."""
                barrier["size"] += 1
                sim.place_liquidity(sentinel["yes_token_id"], "BUY", "0.01", "5")
                want = barrier["size"] * 5 * SH
                await until(lambda: core.books.level_size(sentinel["yes_token_id"], True, 10_000) >= want,
                            "the barrier level")
                core.executor.drain()

            step = 0
            news = sim.news(cid, NEWS_P, lead_s=LEAD_S)
            assert round((news["public_at"] - news["known_at"]) / STEP_S) == public_step
            while step < STEPS:
                step += 1
                clock[0] += int(STEP_S * 1000)
                sim.step_agents()
                await seen_by_the_desk()
                if _desk_fills(core):
                    found["step"] = step
                    break
            for _ in range(max(0, public_step - step) + 4):  # the news is public; the maker re-centres
                clock[0] += int(STEP_S * 1000)
                sim.step_agents()
                await seen_by_the_desk()
            found["mid_after"] = yes_mid(core, yes)
            fill_at = _desk_fills(core)[0]["matched_at"]
            await mark_time(core, fill_at + 11_000)
            core.markouts.run(fill_at + 11_000)
            await core.stop()

        asyncio.run(scenario())
    fills = _desk_fills(core)
    assert found.get("step") == venue_step  # the same agent step as the quote resting in the book
    assert [(f["side"], f["price"], f["liquidity"]) for f in fills] == [("BUY", 500_000, "MAKER")]
    assert sum(f["size"] for f in fills) == venue_size
    marks = q.fill_markouts(core.db, fills[0]["id"])
    assert found["mid_after"] < 300_000  # public: the maker quotes around 0.2
    assert marks["10s"][0] == found["mid_after"]
    assert marks["10s"][1] < 0 and marks["1s"][1] <= 0  # picked off: a negative markout
    assert marks["10s"][1] == (found["mid_after"] - 500_000) * venue_size // SH
    core.db.dispose()


def _desk_fills(core: TradingCore) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with core.db.read() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT id, side, price, size, liquidity, matched_at FROM fills WHERE strategy = 'hand' ORDER BY id")
        ).mappings()]


async def started(core: TradingCore, *tokens: str) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()
    await until(lambda: all(core.books.book(t) is not None for t in tokens), "the first books")
    await core.tick()
