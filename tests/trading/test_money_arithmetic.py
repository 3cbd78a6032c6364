"""What protects money, each on its own arithmetic (fast, no venue): an unevenly filled arbitrage
sells only its excess, a neg-risk set never judged complete is never bought as one, and the stop
loss on PnL fires on a loss (never on a gain)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from contracts.domain import Book, Intent, Level, MarketView, Outcome, Quote, Side, Tif
from contracts.limits import Limits, defaults
from contracts.strategy_limits import DEFAULTS as STRATEGY_DEFAULTS
from engine.execution.exposure import Exposure
from engine.execution.ledger import PositionTotals
from engine.execution.placement import GroupFill
from engine.execution.planner import OrderSpec
from engine.risk import breakers
from engine.risk.gate import Reason, RiskContext, TradingState
from engine.risk.monitor import RiskMonitor
from engine.trading.exits.strategy_exits import Reason as ExitReason
from engine.trading.exits.strategy_exits import _trigger
from engine.trading.ledgers import arbs
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.execution.fakes import market

SH = 1_000_000
NOW = 1_800_000_000_000


class Site:
    """What the arbitrage settlement reads of a ledger: its database, catalog, books, marks and executor."""

    def __init__(self, db: Database, held: dict[str, int]) -> None:
        self.db = db
        self.catalog = {"c1": market("c1", "Y1", "N1"), "c2": market("c2", "Y2", "N2")}
        self.books = SimpleNamespace(book=lambda token: Book(token, (Level(500_000, 100 * SH),),
                                                             (Level(520_000, 100 * SH),), NOW))
        self.placed: list[tuple[str, OrderSpec]] = []
        totals = {t: PositionTotals(settled=n, pending=0) for t, n in held.items()}
        self.executor = SimpleNamespace(state=SimpleNamespace(totals=lambda _s, token: totals[token]),
                                        place_now=self._place)

    async def _place(self, places: list[Any]) -> Any:
        self.placed += [(reason, spec) for _, _, spec, reason in places]
        return SimpleNamespace(order_ids=[])

    def marks(self, token: str) -> Book:
        """The book an unwind sells at (live, the venue link's without the desk's own orders)."""
        return self.books.book(token)


def test_an_unevenly_filled_arbitrage_sells_its_excess_never_the_whole_leg(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    # Bought 30 of leg 1 and 12 of leg 2; the strategy already held 50 of leg 1 from before.
    site = Site(db, {"Y1": 80 * SH, "Y2": 12 * SH})
    site.catalog = {cid: replace(m) for cid, m in site.catalog.items()}
    legs = tuple((site.catalog[cid], OrderSpec(token, Outcome.YES, Side.BUY, 450_000, 30 * SH, Tif.FAK), filled)
                 for cid, token, filled in (("c1", "Y1", 30 * SH), ("c2", "Y2", 12 * SH)))
    book = arbs.Settlements()
    limits = Limits(dict(defaults().values))

    async def scenario() -> None:
        await arbs.settle(site, GroupFill("arb", "g1", "unwind", legs), book)  # type: ignore[arg-type]  # a stand-in site
        assert [(u.token_id, u.shares) for u in book.pending] == [("Y1", 18 * SH)]  # 30 - 12, not 30
        catalog = site.catalog
        site.catalog = SimpleNamespace(get=catalog.get)  # type: ignore[assignment]  # the catalog's one read
        await arbs.unwind_settled(site, limits, book)  # type: ignore[arg-type]  # a stand-in site

    asyncio.run(scenario())
    assert [(reason, spec.side, spec.size) for reason, spec in site.placed] == [
        ("unwind arbitrage", Side.SELL, 18 * SH)]  # the excess only: the 50 held before are not the arbitrage's
    db.dispose()


def _view(cid: str, judged: str | None) -> MarketView:
    info = replace(market(cid, f"Y{cid}", f"N{cid}"), neg_risk=True, neg_risk_market_id="event",
                   neg_risk_set_refusal=judged)
    yes = Book(info.yes_token, (Level(300_000, 100 * SH),), (Level(320_000, 100 * SH),), NOW)
    return MarketView(info, yes, yes.mirrored(info.no_token))


def _set_bought(tmp: Path, judged: str | None) -> list[int]:
    """The sizes the risk monitor approves of a two-market neg-risk set whose completeness is `judged`."""
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    monitor = RiskMonitor(db, "paper", Limits(dict(defaults().values)),
                          breakers.RiskMemory(TradingState.ACTIVE, None, None, None, None), lambda: NOW)
    views = {cid: _view(cid, judged) for cid in ("a", "b")}
    monitor.ctx = RiskContext(now_ms=NOW, trading_state=TradingState.ACTIVE, limits=monitor.limits,
                              exposure=Exposure(), open_orders=0, own_open_orders={}, positions={}, markets=views)
    intents = [Intent("arb", cid, (Quote(Side.BUY, 320_000, 10 * SH, Tif.FAK, group="set"),)) for cid in views]
    checked = monitor.check(intents, NOW)
    with db.read() as conn:
        reasons = {r[0] for r in conn.exec_driver_sql("SELECT reason FROM decisions")}
    db.dispose()
    assert (Reason.NEG_RISK_INCOMPLETE.value in reasons) == (judged is None)
    return [q.size for i in checked for q in i.quotes]


def test_a_neg_risk_set_never_judged_complete_is_never_bought_as_one(tmp_path: Path) -> None:
    (tmp_path / "judged").mkdir()
    (tmp_path / "unjudged").mkdir()
    assert _set_bought(tmp_path / "judged", "") == [10 * SH, 10 * SH]  # judged complete: bought whole
    assert _set_bought(tmp_path / "unjudged", None) == []  # never judged: not known to pay 1


def test_the_stop_loss_on_pnl_fires_on_a_loss_and_never_on_a_gain() -> None:
    values = dict(STRATEGY_DEFAULTS.values)
    values["stop_loss_pnl"] = Decimal("5")  # sell when 5 pUSD down
    limits = Limits(values)
    size = 100 * SH  # 100 shares bought at 0.50
    assert _trigger(limits, 500_000, 440_000, size) == (ExitReason.STOP_LOSS, "unrealized -6.00 pUSD")
    assert _trigger(limits, 500_000, 460_000, size) is None  # 4 pUSD down: within the limit
    assert _trigger(limits, 500_000, 560_000, size) is None  # 6 pUSD up is no loss
