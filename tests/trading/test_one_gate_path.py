"""One gate path (engine/trading/passes/ledger_pass.py, `HOLDS` and `gate`): a protection added in the
documented place acts on every ledger's decisions, on the timed pass and on events alike. A live desk
(its promoted market maker on Polymarket, live), the paper ledger beside it (a paper-only market maker)
and Kalshi's paper ledger (a market maker on a paired Kalshi market), one real trading core against the
simulator: a hold that empties every quote of the markets it is told to hold withdraws each ledger's
quotes, first from a timed pass, then, with no timed pass between, from decisions on events."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import text

from contracts.domain import Intent
from contracts.settings import load_settings
from contracts.venues import KALSHI, POLYMARKET
from contracts.venues.kalshi import ids as kalshi_ids
from engine.trading.core import TradingCore
from engine.trading.passes import ledger_pass
from engine.trading.passes.ledger_pass import LedgerParts
from simulator.testing import SimHandle, approved_simulator
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.kalshi import binary_tickers

pytestmark = pytest.mark.slow
MM = {"fair_value": "mid", "half_spread": 0.03, "size": 20, "skew_per_share": 0, "max_spread": 1}
EVERY_LEDGER = {(POLYMARKET, "live"), (POLYMARKET, "paper"), (KALSHI, "paper")}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=31, agents=False, kalshi_markets=2) as handle:
        yield handle


class Held:
    """A protection of the test's own: every quote in `markets` held out, noting the ledgers it held."""

    def __init__(self) -> None:
        self.markets: set[str] = set()
        self.asked: set[tuple[str, str]] = set()  # (venue, mode) of each ledger whose quotes it held out

    def __call__(self, ledger: LedgerParts, intents: list[Intent], now: int, lead_ms: int) -> tuple[
            list[Intent], list[Any]]:
        executor = ledger.site.executor
        if any(i.quotes and i.condition_id in self.markets for i in intents):
            self.asked.add((executor.venue_name, executor.mode))
        return [Intent(i.strategy, i.condition_id, ()) if i.condition_id in self.markets else i
                for i in intents], []


def _core(tmp: Path, sim: SimHandle) -> tuple[TradingCore, dict[str, str]]:
    """A live desk with three market makers, each on its own ledger; returns it and each one's market."""
    poly, paper = sim.market(neg_risk=False, index=0), sim.market(neg_risk=False, index=1)
    ticker = binary_tickers(sim)[0]
    markets = {"mm": poly["condition_id"], "pp": paper["condition_id"], "kx": kalshi_ids.market_id(ticker)}
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
        for name, live in (("mm", 1), ("pp", 0), ("kx", 0)):
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at,
                                     updated_at, updated_by, live)
                                 VALUES (:n, 'market_making', :p, :m, 1, :t, :t, 'test', :l)"""),
                         {"n": name, "p": json.dumps(MM), "m": json.dumps([markets[name]]), "t": now_ms(), "l": live})
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('tick_interval_ms', '60000', 1, 0, 'test')"))  # no timed pass but ours
    add_pair(db, condition_id=paper["condition_id"], kalshi_ticker=ticker, inverted=False,
             polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
    key, funder = "0x" + secrets.token_hex(32), Account.create().address  # a deposit wallet's, as live
    sim.link_funder(Account.from_key(key).address, funder, 3)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db"), "POLY_PRIVATE_KEY": key, "POLY_SIGNATURE_TYPE": "3",
                              "POLY_FUNDER": funder})
    return TradingCore(settings, db), markets


def _working(core: TradingCore) -> dict[str, int]:
    """Each strategy's orders working, across every ledger."""
    states = [core.executor.state, *(ledger.executor.state for ledger in core.ledgers.others())]
    return {name: sum(1 for state in states for o in state.orders.values() if o.strategy == name)
            for name in ("mm", "pp", "kx")}


async def _ticks_until(core: TradingCore, done: Any, what: str) -> None:
    for _ in range(150):
        await core.tick()
        core.executor.drain()
        for ledger in core.ledgers.others():
            ledger.executor.drain()
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


def _move(core: TradingCore, cid: str, bid: int) -> None:
    """The market's YES touch moves to `bid`/`bid` + 2 cents (its NO book the same), as its feed would write it:
    its market maker wants new quotes."""
    info = core.catalog.get(cid)
    assert info is not None
    core.books.apply_snapshot(info.yes_token, [(bid, 500_000_000)], [(bid + 20_000, 500_000_000)], now_ms())
    core.books.apply_snapshot(info.no_token, [(1_000_000 - bid - 20_000, 500_000_000)],
                              [(1_000_000 - bid, 500_000_000)], now_ms())


async def _events_until(core: TradingCore, markets: list[str], done: Any, what: str) -> None:
    """Decisions on events only, no timed pass: each market's book moves and the market is decided, as the
    feed's listener would mark it."""
    for step in range(150):
        for cid in markets:
            _move(core, cid, 400_000 + 10_000 * (step % 5))
            await core.events.decide_market(cid)
        core.executor.drain()
        for ledger in core.ledgers.others():
            ledger.executor.drain()
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


def test_a_hold_added_to_the_gate_acts_on_every_ledger_timed_and_on_events(
        tmp_path: Path, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    hold = Held()
    monkeypatch.setattr(ledger_pass, "HOLDS", [*ledger_pass.HOLDS, hold])
    core, markets = _core(tmp_path, sim)

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()  # passes by hand
        assert core.ledgers.get(POLYMARKET, "paper") is not None and core.ledgers.get(KALSHI) is not None
        everyone = lambda: all(_working(core).values())  # noqa: E731
        await _ticks_until(core, everyone, "every ledger's market maker quoting")
        assert not hold.asked

        hold.markets, hold.asked = set(markets.values()), set()  # the timed pass: every ledger's quotes go
        await _ticks_until(core, lambda: not any(_working(core).values()), "every quote held out by a timed pass")
        assert hold.asked >= EVERY_LEDGER

        hold.markets = set()  # quoting again, then held out by decisions on events alone
        await _ticks_until(core, everyone, "every ledger quoting again")
        hold.markets, hold.asked = set(markets.values()), set()
        passes = core.events.passes
        await _events_until(core, sorted(markets.values()), lambda: not any(_working(core).values()),
                            "every quote held out on events")
        assert core.events.passes == passes  # no timed pass ran meanwhile
        assert hold.asked >= EVERY_LEDGER
        await core.stop()

    asyncio.run(scenario())
