"""The watch wired to the desk: alerts written as the engine's, thresholds from the runtime
settings, the executor's events heard on its bus, and the feed's and the venue's health looked
at once a tick (the alerts a trader away from the screen needs; engine/trading/lookouts/watch.py decides
what to raise). It also holds the live wallet's balance watch and the venue conditions board.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from contracts.runtime_settings import RuntimeConfig
from engine.execution.bus import EventBus, handler_name
from engine.feeds.plausible import Refusals
from engine.risk.monitor import RiskMonitor
from engine.trading.ledgers.venue_conditions import ConditionBoard, live_conditions
from engine.trading.ledgers.venue_link import VenueLink
from engine.trading.lookouts.balance_watch import BalanceWatch
from engine.trading.lookouts.watch import Thresholds, Watch
from engine.trading.parts import TradingSite
from storage.desk.audit import AlertLevel, raise_alert
from storage.sqlite.db import Database


def thresholds(config: RuntimeConfig) -> Thresholds:
    return Thresholds(config.alert_feed_down_s, config.alert_refusal_burst, config.alert_low_collateral_usdc,
                      config.alert_large_fill_usdc)


class Lookout:
    def __init__(self, db: Database, bus: EventBus, clock: Callable[[], int], config: RuntimeConfig):
        self.db = db
        bus.on_error = self.handler_failed  # a subscriber that raises is alerted; the others still ran
        self.watch = Watch(self.alert, thresholds(config))
        self.watch.listen(bus, clock)
        self.conditions = ConditionBoard(db)
        self.conditions.listen(bus)
        self.balance_watch = BalanceWatch(self.alert)
        self.fills_dark_s = config.fills_dark_s
        self.refusals_told: set[str] = set()  # feeds whose refused records were alerted (once a run)

    def configure(self, config: RuntimeConfig) -> None:
        self.watch.configure(thresholds(config))
        self.fills_dark_s = config.fills_dark_s

    def alert(self, level: AlertLevel, code: str, message: str) -> None:
        with self.db.write() as conn:
            raise_alert(conn, level=level, source="engine", code=code, message=message)

    def handler_failed(self, event: object, handler: Callable[[Any], None], exc: Exception) -> None:
        """A handler on an executor's bus raised (engine/execution/bus.py): what it missed, for whoever
        reads the alerts; the handlers after it ran as usual."""
        self.alert("critical", "EVENT_HANDLER_FAILED",
                   f"{handler_name(handler)} failed on {type(event).__name__} ({type(exc).__name__}: {exc}); "
                   "the other subscribers still had it. The engine log has the traceback")

    def look(self, link: VenueLink, desk: TradingSite, now: int, *, feed_down_s: int) -> None:
        """The feed's and the desk's venue's health, once a tick (not in a replay: the caller's call)."""
        self.watch.feed_ages([None if (at := link.books.updated_ms(t)) is None else now - at
                              for t in link.feed.subscribed()], now)
        self.watch.feed_frozen(link.feed.frozen_since(), now)
        self.refused_records(link.references.refusals())
        if desk.mode != "live":
            return
        self.watch.venue_unreachable(desk.executor.health.unreachable_since, now)
        self.publish_conditions(desk, now, feed_down_s=feed_down_s)

    def refused_records(self, feeds: Mapping[str, Refusals]) -> None:
        """An outside feed's first refused record, alerted once a run with its reason (the feed counts
        the rest and keeps the good records beside them)."""
        for name, refusals in feeds.items():
            if refusals.count and name not in self.refusals_told:
                self.refusals_told.add(name)
                self.alert("warning", "FEED_RECORD_REFUSED",
                           f"the {name} sent a record the desk cannot use ({refusals.first}): it was left out and "
                           f"counted ({refusals.count} so far), the good records beside it are kept; said once a run")

    async def check_balances(self, desk: TradingSite, risk: RiskMonitor, *, tolerance_usdc: float, now: int,
                             feed_down_s: int) -> None:
        """Live: the wallet against the ledger now. A confirmed drift is on the conditions board
        before the risk monitor halts for it, so whoever reads the halt also reads its cause."""
        problems = await self.balance_watch.verdict(desk.executor, tolerance_usdc=tolerance_usdc, now=now)
        self.publish_conditions(desk, now, feed_down_s=feed_down_s)
        if problems is not None:
            risk.balances_checked(problems)

    async def resync_balances(self, desk: TradingSite, risk: RiskMonitor, *, now: int, feed_down_s: int) -> None:
        """An operator's Start ending a balance halt: the difference booked, the drift off the
        board, then trading resumes (or halts again on a token mismatch)."""
        mismatches = await self.balance_watch.resync(desk.executor, risk, now)
        self.publish_conditions(desk, now, feed_down_s=feed_down_s)
        risk.balances_checked(mismatches)

    def publish_conditions(self, desk: TradingSite, now: int, *, feed_down_s: int) -> None:
        health, venue, balances = desk.executor.health, desk.executor.venue, self.balance_watch
        signer = getattr(getattr(venue, "calls", None), "signer", None)
        self.conditions.publish(live_conditions(
            unreachable_since=health.unreachable_since, alert_after_s=feed_down_s,
            heartbeats=getattr(venue, "heartbeats", None), signer=signer,
            drift=balances.alerted_drift, drift_since=balances.drift_since_ms, now=now,
            fills_dark_since=getattr(venue, "fills_dark_since", None), fills_dark_s=self.fills_dark_s),
            tier=shown() if callable(shown := getattr(signer, "shown", None)) else None)  # a venue's rate tier
