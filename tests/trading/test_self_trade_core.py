"""No self-trades with two real strategies in the paper engine (in-process, against the
simulator): a market maker rests its ask; value betting, told a fair value above the market,
wants to bid through it. At equal priority the market maker's name sorts first, so value
betting's bid waits (SELF_TRADE in the decisions log) and never crosses the ask; given the higher
priority on the Strategies page, value betting's bid goes and the market maker's crossing ask
is withdrawn and waits."""

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
from storage.desk import config
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.trading.by_hand import started_by_hand

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=11, agents=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, cid: str) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    strategies = [("mm", "market_making", {"size": 10, "half_spread": 0.02, "max_spread": 0.5}),
                  ("vb", "value_betting", {"order_style": "limit", "edge": 0.03, "max_order": 10})]
    with db.write() as conn:
        for name, kind, params in strategies:
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES (:n, :k, :p, :m, 1, :t, :t, 'test')"""),
                         {"n": name, "k": kind, "p": json.dumps(params), "m": json.dumps([cid]), "t": now_ms()})
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db)


def _live(core: TradingCore, strategy: str) -> list[tuple[Side, int]]:
    """A strategy's live orders in YES space (a NO bid at q is a YES ask at 1 - q)."""
    out = []
    for o in core.executor.state.orders.values():
        if o.strategy == strategy:
            out.append((o.side, o.price) if o.outcome.value == "YES" else (o.side.opposite, 1_000_000 - o.price))
    return sorted(out)


def _crossed(core: TradingCore) -> bool:
    bids = [p for s in ("mm", "vb") for side, p in _live(core, s) if side is Side.BUY]
    asks = [p for s in ("mm", "vb") for side, p in _live(core, s) if side is Side.SELL]
    return bool(bids and asks and max(bids) >= min(asks))


def test_two_strategies_never_cross_and_priority_decides(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False)
    cid = market["condition_id"]
    core = _core(tmp_path, sim, cid)

    async def ticks(n: int) -> None:
        for _ in range(n):
            await core.tick()
            assert not _crossed(core), (_live(core, "mm"), _live(core, "vb"))

    async def scenario() -> dict[str, object]:
        mid = await started_by_hand(core, cid)  # ticks by hand
        # vb's fair value: its bid (fair - edge) lands a cent above mm's ask (mid + 0.02).
        with core.db.write() as conn:
            conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, updated_at, updated_by)
                                 VALUES (:c, 'operator', :v, :t, 'test')"""),
                         {"c": cid, "v": mid + 60_000, "t": now_ms()})
        core.signals.fair_at = 0  # read the fair value now rather than at the next periodic reload
        await ticks(3)
        first = {"mm": _live(core, "mm"), "vb": _live(core, "vb"), "mid": mid, "changed_at": now_ms()}
        config.save_strategy_limits(core.db, "vb", {"priority": config.Change("5", None)}, actor="test")
        await core.reload_config()
        await ticks(4)
        await core.stop()
        return {"first": first}

    seen = asyncio.run(scenario())
    first = seen["first"]
    mid = first["mid"]  # type: ignore[index]  # the recorded values are JSON of a known shape
    mm_asks = [p for side, p in first["mm"] if side is Side.SELL]  # type: ignore[index]  # the recorded values are JSON of a known shape
    assert mm_asks and all(p <= mid + 30_000 for p in mm_asks)  # mm rests its ask under vb's wanted bid
    assert not [p for side, p in first["vb"] if side is Side.BUY]  # type: ignore[index]  # the recorded values are JSON of a known shape
    with core.db.read() as conn:
        orders = conn.execute(text("""SELECT strategy, outcome, side, price, created_at,
                                             COALESCE(closed_at, 9e18) AS closed_at, status FROM orders""")).all()
        rows = conn.execute(text("SELECT strategy, side, detail FROM decisions WHERE reason = 'SELF_TRADE' "
                                 "ORDER BY id")).all()
    yes_asks = [(o.price if o.outcome == "YES" else 1_000_000 - o.price, o.created_at, o.closed_at)
                for o in orders if o.strategy == "mm" and (o.side == "SELL") == (o.outcome == "YES")]
    vb_bids = [o for o in orders if o.strategy == "vb" and o.outcome == "YES" and o.side == "BUY"]
    assert vb_bids  # with priority 5 its bid went (and, marketable, took from the book)
    assert all(b.created_at >= first["changed_at"] for b in vb_bids)  # type: ignore[index]  # not before
    for bid in vb_bids:  # none was placed while an ask of mm's at or under its price rested
        assert not [a for a in yes_asks if a[0] <= bid.price and a[1] <= bid.created_at < a[2]], (bid, yes_asks)
    waited = {(r.strategy, r.side) for r in rows}
    assert ("vb", "BUY") in waited and ("mm", "SELL") in waited  # each waited in its turn, and said why
    assert any("strategy 'mm'" in r.detail for r in rows if r.strategy == "vb")
    assert any("strategy 'vb'" in r.detail for r in rows if r.strategy == "mm")
