"""Kalshi's trade fees and the rounding it applies to every fill, from its fee schedule and its Fee
Rounding page.

Trade fee of one fill: rate x C x P x (1 - P), rounded up to $0.0001 (C contracts at P dollars;
the taker rate 0.07, the maker rate 0.0175 on series whose fee type charges makers; the series'
fee multiplier scales both). The fill then moves the balance by what it pays or earns less that
fee, floored to the account's balance precision ($0.0001 for the direct members the desk's API
accounts are): the difference is a rounding fee. Each order keeps an accumulator of its rounding
fees; when it passes $0.01 a whole-cent rebate is paid and the accumulator drops by $0.01, so an
order's fees converge to those of one fill of its whole size. The fee a fill reports (`fee_cost`)
is trade fee + rounding fee - rebate, and the balance moves by exactly (cash - fee_cost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .units import MICRO

TAKER_RATE = Fraction(7, 100)
MAKER_RATE = Fraction(7, 400)
FEE_GRAIN = 100  # $0.0001 in micro-dollars: fees are rounded up to it
BALANCE_GRAIN = 100  # a direct member's balance precision, $0.0001
REBATE = 10_000  # a whole cent
MAKER_FEE_TYPES = frozenset({"quadratic_with_maker_fees"})
FEE_TYPES = ("quadratic", "quadratic_with_maker_fees", "quadratic_with_combo_maker_fees", "flat")  # Kalshi's FeeType


@dataclass(frozen=True)
class FeeSchedule:
    fee_type: str = "quadratic"  # quadratic | quadratic_with_maker_fees | flat
    multiplier: Fraction = Fraction(1)


@dataclass(frozen=True)
class FeeChange:
    """A change of a series' fee settings scheduled ahead (`GET /series/fee_changes`)."""

    change_id: str
    series_ticker: str
    at_ms: int  # `scheduled_ts`
    schedule: FeeSchedule


@dataclass
class SeriesFees:
    """A series' fee settings and the changes scheduled for it: from a change's time on, every fill of
    the series' markets pays the new settings (whenever anyone reads them)."""

    base: FeeSchedule = field(default_factory=FeeSchedule)
    changes: list[FeeChange] = field(default_factory=list)

    def at(self, now_ms: int) -> FeeSchedule:
        due = [c for c in self.changes if c.at_ms <= now_ms]
        return max(due, key=lambda c: c.at_ms).schedule if due else self.base

    def every(self) -> list[FeeSchedule]:
        """Every settings the series has or will have (an order's reserve covers the dearest)."""
        return [self.base, *(c.schedule for c in self.changes)]


@dataclass(frozen=True)
class EventFeeChange:
    """A change of an event's fee override Kalshi scheduled (`GET /events/fee_changes`): from `at_ms`
    on, the event's markets pay `override`, or their series' fees again when it is None (cleared)."""

    change_id: str
    event_ticker: str
    series_ticker: str
    at_ms: int  # `scheduled_ts`
    override: FeeSchedule | None


@dataclass
class EventFees:
    """What an event's markets pay: the event's fee override when one is in force (it takes precedence
    over the series'), else the series' fees; with the override changes Kalshi scheduled for the event,
    each applied at its time (whenever anyone reads them)."""

    series: SeriesFees
    override: FeeSchedule | None = None
    changes: list[EventFeeChange] = field(default_factory=list)

    @property
    def base(self) -> FeeSchedule:
        """The series' own settings, as first listed (as SeriesFees.base)."""
        return self.series.base

    def override_at(self, now_ms: int) -> FeeSchedule | None:
        due = [c for c in self.changes if c.at_ms <= now_ms]
        return max(due, key=lambda c: c.at_ms).override if due else self.override

    def at(self, now_ms: int) -> FeeSchedule:
        override = self.override_at(now_ms)
        return override if override is not None else self.series.at(now_ms)

    def every(self) -> list[FeeSchedule]:
        """Every settings the event's markets have or will have (an order's reserve covers the dearest)."""
        overrides = [self.override, *(c.override for c in self.changes)]
        return self.series.every() + [o for o in overrides if o is not None]


def trade_fee(schedule: FeeSchedule, count: int, price: int, *, taker: bool) -> int:
    """Micro-dollars, rounded up to $0.0001 (count in micro-contracts, price in micro-dollars)."""
    if not taker and schedule.fee_type not in MAKER_FEE_TYPES:
        return 0
    rate = (TAKER_RATE if taker else MAKER_RATE) * schedule.multiplier
    exact = rate * Fraction(count * price * (MICRO - price), MICRO * MICRO)  # in micro-dollars
    grains = -(-exact // FEE_GRAIN)
    return int(grains) * FEE_GRAIN


@dataclass
class Accumulator:
    """One order's rounding fees not yet rebated (micro-dollars)."""

    rounding: int = 0

    def settle_fill(self, cash: int, fee: int) -> int:
        """The fee the fill reports for `cash` (what it pays, negative, or earns) and its trade fee
        `fee`: trade fee + rounding fee - any rebate now due."""
        change = cash - fee
        floored = (change // BALANCE_GRAIN) * BALANCE_GRAIN
        rounding = change - floored
        self.rounding += rounding
        rebate = 0
        # "Net fee = trade fee + rounding fee - rebate (always >= $0.00)": a rebate due waits for a
        # fill whose own fees cover it (our reading of that bound).
        if self.rounding > REBATE and fee + rounding >= REBATE:
            rebate = REBATE
            self.rounding -= REBATE
        return fee + rounding - rebate
