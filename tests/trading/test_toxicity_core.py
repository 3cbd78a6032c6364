"""Market making that reads its fills, in the real trading core against the simulator (paper): a
bid picked off (the book falls through it) is marked against the mid ten seconds later by the
engine, handed to the strategy as its own markout, and the strategy widens and shrinks its quotes;
the decisions log notes the change of regime with the toxicity, and the quotes come back as it
fades. Time is a hand-driven clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import Side
from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import paper_venue
from tests.trading.test_strategy_limits_core import _mid_is, _rows, _scripted_book, _started

pytestmark = pytest.mark.slow

PARAMS = {"size": 10, "half_spread": 0.01, "skew_per_share": 0, "refresh_threshold": 0, "max_inventory": 100,
          "toxicity_control": True, "toxicity_horizon": "10s", "toxicity_half_life_s": 60, "toxicity_min": 0.005,
          "toxicity_widen": 1.0, "toxicity_halt": 0.08}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=53, agents=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, cid: str, clock: list[int]) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm', 'market_making', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(PARAMS), "m": json.dumps([cid])})
        # the hand-driven clock runs ahead of the books' arrival times: not stale data here
        conn.execute(text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                             VALUES ('max_data_age', '3600', 1, 0, 'test')"""))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db, clock=lambda: clock[0])


def _bid(core: TradingCore, cid: str) -> tuple[int, int] | None:
    """(YES price, size) of the strategy's working bid (a YES BUY), if any."""
    for order in core.executor.state.orders.values():
        if order.condition_id == cid and order.outcome.value == "YES" and order.side is Side.BUY:
            return order.price, order.size
    return None


def test_a_picked_off_bid_widens_and_shrinks_the_quotes_then_they_come_back(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    clock = [now_ms()]
    core = _core(tmp_path, sim, cid, clock)

    async def tick(seconds: float = 0) -> None:
        clock[0] += int(seconds * 1000)
        await core.tick()
        paper_venue(core).advance()
        core.executor.drain()

    async def scenario() -> None:
        await _started(core)  # ticked by hand from here
        await tick()
        assert _bid(core, cid) == (490_000, 10_000_000)  # mid 0.50 - 0.01
        _scripted_book(sim, market, "0.44", "0.46")  # the book falls through our bid: filled at 0.49
        await _mid_is(core, yes, 450_000)
        await tick(1)
        assert _rows(core, "SELECT side, price FROM fills") == [("BUY", 490_000)]
        await tick(11)  # ten seconds on, the mid is 0.45: 0.04 against the fill
        marks = core.own_markouts.recent("mm", [cid])[cid]
        assert [(m.horizon_ms, m.per_share) for m in marks] == [(1_000, -40_000), (10_000, -40_000)]
        await tick()
        # toxicity ~0.039 (0.04 known two seconds ago, decaying): half-spread ~0.049 around mid 0.45,
        # size 10 x (0.08 - 0.039) / 0.08 ~ 5.1 (the 10 shares it holds skew nothing: skew 0)
        price, size = _bid(core, cid) or (0, 0)
        assert price == 400_000 and 5_000_000 <= size <= 5_200_000
        await tick(600)  # ten half-lives: faded below the floor
        await tick()
        assert _bid(core, cid) == (440_000, 10_000_000)  # 0.45 - 0.01, full size
        await core.stop()

    asyncio.run(scenario())
    notes = _rows(core, "SELECT reason, detail FROM decisions WHERE action = 'note' ORDER BY id")
    assert [reason for reason, _ in notes] == ["REGIME_CALM", "REGIME_TOXIC", "REGIME_CALM"]
    assert notes[1][1].startswith("toxicity 0.039") and ", size 5.1" in notes[1][1]
