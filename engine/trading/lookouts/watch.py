"""The alerts a trader away from the screen needs, each once per episode, with a code, a level
and a plain message: the market feed down for longer than a setting (and back), the market
channel frozen (pings answered, no book data while the venue's books moved; and back), the venue
unreachable for that long (and back), order refusals in a burst, the wallet's collateral
below a threshold (and back), and a fill larger than a threshold. (The crash-loop halt, the
venue's maintenance and a strategy that selects no market raise their own.)

`Watch` is fed by the trading core once per tick and subscribes to the executor's events
(a fill, a refusal by the venue: `listen`); it only
decides what to raise; its thresholds come from the Settings page (contracts/runtime_settings.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from contracts.domain import notional
from engine.execution.bus import EventBus, FillApplied, PlacementRefused
from storage.desk.audit import AlertLevel

Raise = Callable[[AlertLevel, str, str], None]  # (level, code, message)


@dataclass(frozen=True)
class Thresholds:
    feed_down_s: int = 30
    refusal_burst: int = 5  # venue refusals within a minute
    low_collateral_usdc: float = 0.0  # 0: off
    large_fill_usdc: float = 0.0  # 0: off


class Episode:
    """A condition that holds for a while: alert once when it has lasted `after_ms`, once more
    when it ends."""

    def __init__(self, code: str, after_ms: int = 0):
        self.code = code
        self.after_ms = after_ms
        self.since: int | None = None
        self.alerted = False

    def update(self, holds: bool, now: int, down: tuple[AlertLevel, str], up: tuple[AlertLevel, str],
               emit: Raise, since: int | None = None) -> None:
        """`since`: when the condition began, when the caller knows (else: first seen now)."""
        if holds:
            self.since = (since if since is not None else now) if self.since is None else self.since
            if not self.alerted and now - self.since >= self.after_ms:
                self.alerted = True
                emit(down[0], self.code, down[1])
            return
        if self.alerted:
            emit(up[0], f"{self.code}_CLEARED", up[1])
        self.since, self.alerted = None, False


class Watch:
    def __init__(self, emit: Raise, thresholds: Thresholds | None = None):
        self.emit = emit
        self.thresholds = thresholds or Thresholds()
        self.feed = Episode("FEED_DOWN")
        self.frozen = Episode("FEED_FROZEN")
        self.venue = Episode("VENUE_UNREACHABLE")
        self.collateral = Episode("LOW_COLLATERAL")
        self.refusals: deque[int] = deque()
        self.burst_until = 0

    def configure(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.feed.after_ms = self.venue.after_ms = thresholds.feed_down_s * 1000

    def feed_ages(self, ages_ms: Iterable[int | None], now: int) -> None:
        """The market feed is down when no subscribed book has been current for the threshold."""
        ages = list(ages_ms)
        freshest = min((a for a in ages if a is not None), default=None)
        down = bool(ages) and (freshest is None or freshest > self.thresholds.feed_down_s * 1000)
        # The outage began when the freshest book last heard from the feed, not when this check
        # first saw it past the threshold: counted from then, the alert came a whole threshold
        # late (60 s for 30 s). A feed that never delivered is down from the first look.
        began = None if freshest is None else now - freshest
        self.feed.update(down, now, ("warning", f"the market feed has delivered nothing for over "
                                                f"{self.thresholds.feed_down_s} s: no new orders on stale data"),
                         ("info", "the market feed is delivering again"), self.emit, since=began)

    def feed_frozen(self, since_ms: int | None, now: int) -> None:
        """The market channel answers its pings but has sent no book data while the venue's books
        moved (its spot checks tell: `BookFeed.frozen_since`): once, at once, and once more when data flows again."""
        silent_s = 0 if since_ms is None else max(0, now - since_ms) // 1000
        self.frozen.update(since_ms is not None, now,
                           ("warning", f"the market channel answers its pings but has sent no book data for "
                                       f"{silent_s} s while the venue's books moved (a REST check found them "
                                       "changed): reconnecting and resyncing; its books age meanwhile, so no new "
                                       "orders on them"),
                           ("info", "the market channel delivers book data again"), self.emit, since_ms)

    def venue_unreachable(self, since_ms: int | None, now: int) -> None:
        self.venue.update(since_ms is not None, now,
                          ("critical", f"the venue has not answered for over {self.thresholds.feed_down_s} s "
                                       "(timeouts, network or server errors)"),
                          ("info", "the venue answers again"), self.emit, since_ms)

    def listen(self, bus: EventBus, clock: Callable[[], int]) -> None:
        """Hear of each new fill (the large-fill alert) and each order the venue refused (bursts)."""
        bus.subscribe(FillApplied, self._fill_applied)
        bus.subscribe(PlacementRefused, lambda event: self.refused(clock()) if event.by_venue else None)

    def _fill_applied(self, fill: FillApplied) -> None:
        self.filled(fill.strategy, fill.price, fill.size,
                    f"{fill.side.value} {fill.outcome.value} in {fill.condition_id[:12]}…")

    def refused(self, now: int) -> None:
        """One order the venue refused; a burst within a minute raises one alert a minute."""
        self.refusals.append(now)
        while self.refusals and self.refusals[0] < now - 60_000:
            self.refusals.popleft()
        if len(self.refusals) >= self.thresholds.refusal_burst > 0 and now >= self.burst_until:
            self.burst_until = now + 60_000
            self.emit("warning", "REFUSAL_BURST", f"{len(self.refusals)} orders refused by the venue in the last "
                                                  "minute: see the decisions log (VENUE_REFUSED) for its answers")

    def collateral_now(self, collateral: int, now: int) -> None:
        threshold = int(self.thresholds.low_collateral_usdc * 1_000_000)
        self.collateral.update(threshold > 0 and collateral < threshold, now,
                               ("warning", f"collateral {collateral / 1e6:,.2f} pUSD is below "
                                           f"{self.thresholds.low_collateral_usdc:,.2f}"),
                               ("info", "collateral is back above the threshold"), self.emit)

    def filled(self, strategy: str, price: int, size: int, description: str) -> None:
        threshold = int(self.thresholds.large_fill_usdc * 1_000_000)
        value = notional(price, size)
        if threshold > 0 and value >= threshold:
            self.emit("warning", "LARGE_FILL", f"strategy '{strategy}' filled {value / 1e6:,.2f} pUSD at once "
                                               f"({description})")
