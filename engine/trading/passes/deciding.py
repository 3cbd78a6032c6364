"""The strategies deciding: every enabled strategy's intents, by the ledger they go to.

One place for the timed pass (engine/trading/core.py) and for decisions on events
(engine/trading/passes/event_decisions.py): each hosted strategy is routed to its ledger
(engine/trading/passes/routing.py: the desk's, the paper ledger beside a live desk for a paper-only
strategy, that of a venue armed on its own for a strategy naming its markets), sees its state read from that
ledger, and decides; a cross-venue strategy decides over both venues' ledgers (a leg on each). One that
raises is disabled and withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts import order_end
from contracts.domain import Intent, MarketView
from contracts.strategy_limits import DEFAULTS as STRATEGY_DEFAULTS
from contracts.venues import paired_venue
from engine.execution import portfolio
from engine.execution.portfolio import StrategyBook
from engine.feeds.catalog import MarketCatalog
from engine.trading.hosting.own_markouts import OwnMarkouts
from engine.trading.hosting.strategy_host import Failure, StrategyHost
from engine.trading.hosting.strategy_states import StrategyStates
from engine.trading.hosting.views import snapshot
from engine.trading.passes import cross_arbs
from engine.trading.passes.ledger import Ledger
from engine.trading.passes.routing import LedgerKey, Ledgers
from storage.sqlite.db import Database

Scope = dict[str, tuple[str, ...]]  # strategy -> the markets it decides in one market's decision
Decided = tuple[dict[LedgerKey, list[Intent]], list[cross_arbs.Decided]]


class Deciders:
    """The hosted strategies' decisions, by ledger, on the ledgers as they stand."""

    def __init__(self, db: Database, host: StrategyHost, ledgers: Ledgers, catalog: MarketCatalog,
                 pairs: Callable[[], dict[str, tuple[str, bool]]], own_markouts: OwnMarkouts,
                 noted: set[str]) -> None:
        """`pairs`: the operator's pairs in force; `noted`: what was alerted this session (each said once)."""
        self.db = db
        self.host = host
        self.ledgers = ledgers
        self.catalog = catalog
        self.pairs = pairs
        self.own_markouts = own_markouts  # what market making's toxicity reads
        self.states = StrategyStates()  # each strategy's own state, rebuilt where its ledger changed
        self.noted = noted

    def decide(self, now: int, views: dict[str, MarketView], only: Scope | None = None) -> Decided:
        """Every enabled strategy's intents, by the ledger they go to, and the cross-venue strategies' (a leg
        on each venue). A strategy whose ledger is not open, or does not take it (a venue armed live holds
        some: routing.traders_on), makes no decision. A strategy with an allocation sizes from it (plus its
        realized PnL), not from the wallet: each strategy's book is read from its ledger's figures (once per
        ledger, before any decides) only if one has one. `only`: an event's decision, those strategies on
        those markets (engine/trading/passes/event_decisions.py)."""
        ledgers = self.ledgers
        desk = ledgers.desk
        out: dict[LedgerKey, list[Intent]] = {ledgers.desk_key: [], **{key: [] for key in ledgers.open}}
        crossing: list[cross_arbs.Decided] = []
        pairs = self.pairs()
        desk_site = cross_arbs.Site(desk, desk.risk, desk.arbitrage)
        books: dict[tuple[str, str], dict[str, StrategyBook]] = {}  # by ledger (mode, venue)
        for name, hosted in list(self.host.hosted.items()):
            if only is not None and name not in only:
                continue
            key = ledgers.route(hosted)
            other = None if key == ledgers.desk_key else ledgers.open.get(key)  # None: the desk's
            sides = cross_arbs.sites(desk_site, other, ledgers.get(paired_venue()), name, hosted) \
                if hosted.instance.spans_venues else None
            if isinstance(sides, str):
                if f"cross:{name}:{sides}" not in self.noted:  # said once a session
                    self.noted.add(f"cross:{name}:{sides}")
                    cross_arbs.held_alert(self.db, name, sides)
                self.withdraw(name, order_end.because(order_end.PROTECTION, f"its {sides} leg is held"))
                continue
            if other is not None and name not in other.strategies:
                other = None  # its ledger does not take it (armed live on its own: paper only, or its market taken)
            if hosted.paused or (other is None and key != ledgers.desk_key):
                # Paused on its own (exits still guard it), or its ledger is not open: no decision.
                self.withdraw(name, order_end.PAUSED if hosted.paused else order_end.because(
                    order_end.PROTECTION, "its ledger is not open"))
                continue
            ledger: Ledger = other or desk
            if sides is not None:
                site = sides[0].site
                ledger = site if isinstance(site, Ledger) else desk
            executor = ledger.executor
            book_key = (executor.mode, executor.venue_name)
            allocation = desk.risk.strategies.limits.get(name, STRATEGY_DEFAULTS).usdc("allocation")
            if allocation > 0 and book_key not in books:  # deciding changes no order or position
                books[book_key] = portfolio.booked(executor.state)
            state = self.states.state(name, hosted.markets, self.catalog, executor.state, allocation,
                                      books[book_key].get(name) if book_key in books else None,
                                      self.own_markouts.recent(name, hosted.markets))
            markets = list(hosted.markets) if only is None else list(only[name])
            if sides is not None:  # both venues' markets and ledgers in its view
                state = cross_arbs.cross_state(name, hosted, self.catalog, *sides, pairs, state)
                markets += [m for m in sorted(cross_arbs.paired_legs({name: hosted}, pairs)) if m not in markets]
            result = self.host.decide(name, snapshot(now, views, markets, hosted.markets), state, now)
            if isinstance(result, Failure):
                self.host.disable(name, result.error)
                self.withdraw(name, order_end.because(order_end.DISABLED, "it failed"))
                continue
            if sides is not None:
                crossing.append(cross_arbs.Decided(name, tuple(hosted.markets), tuple(result), *sides))
                continue
            out[key].extend(result)
        return out, crossing

    def withdraw(self, name: str, why: str) -> None:
        """A strategy's orders withdrawn wherever it trades (every ledger)."""
        for ledger in self.ledgers.all():
            ledger.withdraw(name, why)
