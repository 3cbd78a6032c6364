"""A desk with Kalshi armed live on the simulator's Kalshi side, as the live ledger's tests (and the
fill-latency bench) run it: one Kalshi account with its own RSA key, one promoted Kalshi strategy,
the trading core ticked by hand; and what the simulator's Kalshi holds for that account."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.settings import load_settings
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from engine.trading.core import TradingCore
from simulator.testing import SimHandle
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.kalshi import admin, binary_tickers, keypair, register

MM = {"fair_value": "mid", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1}


class Desk:
    """A paper desk with Kalshi armed live, one Kalshi account, one promoted Kalshi strategy."""

    def __init__(self, tmp: Path, sim: SimHandle, market: int = 0, ticker: str | None = None) -> None:
        self.sim = sim
        private, public = keypair()
        self.key_id = register(sim, public)
        self.account = sim.call(lambda: sim.sim.kalshi.keys.keys[self.key_id].account)
        self.ticker = ticker or binary_tickers(sim)[market]
        self.kalshi = kalshi_ids.market_id(self.ticker)
        self.db_path = tmp / "t.db"
        migrate(self.db_path)
        db = Database(self.db_path)
        with db.write() as conn:
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, live, created_at,
                                     updated_at, updated_by)
                                 VALUES ('kx', 'market_making', :p, :m, 1, 1, 0, 0, 'test')"""),
                         {"p": json.dumps(MM), "m": json.dumps([self.kalshi])})
            conn.execute(text("UPDATE venue_modes SET mode = 'live' WHERE venue = 'kalshi'"))
        add_pair(db, condition_id=sim.market(neg_risk=False)["condition_id"], kalshi_ticker=self.ticker,
                 inverted=False, polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
        db.dispose()
        self.env = {"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                    "TRADER_DB": str(self.db_path), "KALSHI_API_KEY_ID": self.key_id, "KALSHI_PRIVATE_KEY": private}

    def core(self) -> TradingCore:
        return TradingCore(load_settings(self.env), Database(self.db_path))

    def balance(self) -> int:
        """The account's balance at Kalshi (`balance_dollars`), in the ledger's micro-dollars."""
        return int(self.sim.call(lambda: self.sim.sim.kalshi.exchange.accounts[self.account].balance))

    def resting(self) -> int:
        return int(self.sim.call(lambda: sum(1 for o in self.sim.sim.kalshi.exchange.orders.values()
                                             if o.account == self.account and o.status == "resting")))

    def position(self) -> int:
        """Kalshi's signed position of the account in its market (micro-contracts: + YES, - NO)."""
        held = self.sim.call(lambda: self.sim.sim.kalshi.exchange.accounts[self.account].positions.get(self.ticker))
        return 0 if held is None else int(held.count)

    def settle(self, result: str, value: int | None = None) -> None:
        """Kalshi determines the market and pays it (its settlement timer run out)."""
        def go() -> None:
            life = self.sim.sim.kalshi.lifecycle
            life.determine(self.ticker, result, value, 0, now_ms())
            if self.sim.sim.kalshi.exchange.markets[self.ticker].status != "finalized":
                life.finalize(self.ticker, now_ms())
        self.sim.call(go)

    def taken(self, side: str, price: int, count: int) -> None:
        """Another trader takes up to `count` (micro-contracts) at `price` (micro-dollars) or better."""
        self.sim.call(lambda: self.sim.sim.kalshi.exchange.house_take(self.ticker, side, price, count, now_ms()))

    def fund(self, balances: dict[int, str]) -> None:
        """The account's money as it stands on each exchange shard (dollars), as moved on Kalshi's website."""
        status, body = admin(self.sim, f"/_sim/kalshi/accounts/{self.account}/shards",
                             {"balances": {str(k): v for k, v in balances.items()}})
        assert status == 200, body

    def move_balance(self, micro: int) -> None:
        """Money paid into (or taken out of) the account from outside the desk."""
        def move() -> None:
            self.sim.sim.kalshi.exchange.accounts[self.account].balance += micro
        self.sim.call(move)


async def until(check: Any, what: str, tries: int = 300) -> None:
    for _ in range(tries):
        if callable(check) and check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def started(core: TradingCore, kalshi: str) -> None:
    """The core started and stopped looping (ticked by hand), the operator's orders alone, the
    Kalshi book read once (or the market found settled)."""
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()
    core.deciding = False  # the operator's orders alone: the market maker stays out
    info, poller = core.catalog.get(kalshi), core.link.references.poller
    assert info is not None and poller is not None
    for _ in range(200):
        if core.books.book(info.yes_token) is not None or kalshi_ids.ticker_of(kalshi) in poller.settled:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the Kalshi book was never read")


async def bought(core: TradingCore, desk: Desk, size: int) -> None:
    """The live ledger buys `size` YES at Kalshi's ask (a fill-and-kill) and waits for the fill."""
    ledger = core.ledgers.get(KALSHI)
    assert ledger is not None
    yes = kalshi_ids.token_id(desk.ticker, "yes")
    await core.tick()
    book = core.books.book(yes)
    assert book is not None and book.asks
    before = ledger.executor.state.totals("kx", yes).settled
    ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, book.asks[0].price, size, Tif.FAK),))])
    await ledger.executor.reconcile()

    def filled() -> bool:
        ledger.executor.drain()
        return ledger.executor.state.totals("kx", yes).settled == before + size

    await until(filled, "Kalshi's fill reaching the live ledger")
