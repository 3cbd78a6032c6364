"""Which other ledgers are open, and opening them as their first strategy is hosted.

Each venue armed on its own (`venues_armed_alone`), in its armed mode, for the strategies naming its markets, on any
desk (a backtest is a paper desk: it has these only); the desk's venue on paper for the paper-only strategies of a
live desk (and while that ledger holds a promoted strategy's paper leftovers: valued, exitable). Each strategy
trading on paper beside a live desk, or held from a venue armed live, is alerted once a session.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.domain import MICRO
from contracts.runtime_settings import RuntimeConfig
from engine.risk.monitor import RiskMonitor
from engine.trading.hosting.strategy_host import (
    StrategyHost,
    alert_paper_only,
    alert_venue_held,
    alert_venue_paper,
    alert_venue_unavailable,
)
from engine.trading.ledgers.venue_link import VenueLink
from engine.trading.passes.ledger import Ledger, other_ledger
from engine.trading.passes.routing import LedgerKey, Ledgers, traders_on
from engine.venues.base import VenueError
from storage.engine_stores import trading_reads
from storage.sqlite.db import Database


class Opening:
    """Keeps the other ledgers open for the strategies hosted now."""

    def __init__(self, db: Database, link: VenueLink, host: StrategyHost, ledgers: Ledgers, risk: RiskMonitor, *,
                 config: Callable[[], RuntimeConfig], wire: Callable[[Ledger], None], noted: set[str]) -> None:
        """`risk`: the desk's (each ledger's own measures its limits); `wire`: a new ledger's bus joined to what
        hears the desk's (alerts, fill snapshots, markouts, decisions on events); `noted`: what was alerted this
        session (each said once)."""
        self.db, self.link, self.host, self.ledgers, self.risk = db, link, host, ledgers, risk
        self.config, self.wire, self.noted = config, wire, noted

    async def open_others(self, *, rearm: bool = False) -> None:
        """`rearm`: an operator's Start, which ends a ledger's halt as it ends the desk's."""
        cash = int(self.config().paper_starting_cash * MICRO)
        pairs = self.link.references.pairs()
        replay = self.link.replay is not None
        for venue, mode in self.ledgers.armed.items():  # each venue armed on its own, in its own mode, on any desk
            traders, held = traders_on(self.host.hosted, venue, mode, pairs)
            try:
                await self.ledgers.keep_open((venue, mode), self._made, traders, cash, rearm=rearm)
            except VenueError as exc:  # the venue down or its key refused: only what trades there waits
                alert_venue_unavailable(self.db, str(exc), venue)
            if not replay:
                self._tell(venue, mode, traders, held)
        if replay or self.ledgers.desk.mode != "live":
            return
        paper_key = (self.ledgers.desk_key[0], "paper")
        names = {name for name, hosted in self.host.hosted.items() if self.ledgers.route(hosted) == paper_key}
        with self.db.read() as conn:  # a promoted strategy's paper leftovers keep it open: valued, exitable
            leftovers = trading_reads.ledger_holds(conn, "paper", paper_key[0])
        if await self.ledgers.keep_open(paper_key, self._made, names, cash, rearm=rearm, holds=leftovers) is None:
            return
        for name in sorted(names - self.noted):
            self.noted.add(name)
            alert_paper_only(self.db, name)

    def _tell(self, venue: str, mode: str, traders: set[str], held: dict[str, str]) -> None:
        """Once a session: each strategy trading a venue armed on its own on paper, and each held from it."""
        for name in sorted({f"{venue}:{mode}:{n}" for n in traders} - self.noted):
            self.noted.add(name)
            if mode == "paper":
                alert_venue_paper(self.db, name.rsplit(":", 1)[1], venue)
        for name, why in sorted(held.items()):
            if f"{venue}:held:{name}" not in self.noted:
                self.noted.add(f"{venue}:held:{name}")
                alert_venue_held(self.db, name, why, venue)

    def _made(self, key: LedgerKey) -> Ledger:
        ledger = other_ledger(self.link, self.risk, *key)
        self.wire(ledger)
        return ledger
