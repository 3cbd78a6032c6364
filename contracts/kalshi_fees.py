"""Kalshi's fees as Kalshi charges them (its fee schedule and its Fee Rounding page), in micro-dollars.

The trade fee of one fill of C contracts at P dollars is rate x C x P x (1 - P), rounded up to
$0.0001: the taker rate 0.07, the maker rate 0.0175 on series whose fee type charges makers
(`quadratic_with_maker_fees`), both scaled by the series' `fee_multiplier` (or an event's override).
The fill then moves an account's balance by its cash less that fee, floored to $0.0001 (a direct
member's balance precision): the difference is a rounding fee. Each order keeps an accumulator of
its rounding fees; when it passes $0.01 a cent is rebated on a fill whose own fees cover it. What a
fill reports as its fee (`fee_cost`) is trade fee + rounding fee - rebate, so the balance moves by
exactly (cash - fee): a ledger that books the reported fee equals Kalshi's balance to $0.0001.

Live, the desk books the fee Kalshi reports. Paper and backtests charge it with `FillFees` (the same
arithmetic, an accumulator per order); the cross-venue arithmetic prices a slice with `trade_fee`
plus the most its rounding can add. A `flat` series' fees are not published in a form the desk reads:
a market of one is refused for paper trading rather than charged a guess.

Kalshi schedules changes of a series' fee settings ahead (`GET /series/fee_changes`: each with its
`scheduled_ts`), and of an event's override of them (`GET /events/fee_changes`: an override, which takes
precedence over the series' settings for the event's markets, or the override cleared, both fields
null, which gives them their series' settings again); `FeeSchedule` keeps both with the settings read,
and every fill (paper, backtest) and every arbitrage decision is charged the settings in force at its
own time (`FeeSchedule.at`): the event's override then if one is in force, else the series' then.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from contracts.domain import MarketInfo

ONE = 1_000_000
TAKER_RATE = Fraction(7, 100)
MAKER_RATE = Fraction(7, 400)
FEE_GRAIN = 100  # $0.0001: a trade fee is rounded up to it
BALANCE_GRAIN = 100  # a direct member's balance precision
REBATE = 10_000  # a cent
MAKER_TYPES = frozenset({"quadratic_with_maker_fees", "quadratic_with_combo_maker_fees"})
KNOWN_TYPES = frozenset({"quadratic"}) | MAKER_TYPES
# Until the desk has read a market's series, it charges as the dearest known schedule (paper never flatters).
UNREAD = ("quadratic_with_maker_fees", ONE)


@dataclass(frozen=True)
class KalshiFees:
    fee_type: str = UNREAD[0]
    multiplier_ppm: int = UNREAD[1]  # the series' fee multiplier, in millionths

    @property
    def problem(self) -> str | None:
        if self.fee_type not in KNOWN_TYPES:
            return (f"the series' fee type is {self.fee_type!r}, whose fees the desk cannot compute: it trades "
                    "such a market live only, on the fees Kalshi reports")
        return None


def trade_fee(fees: KalshiFees, price: int, size: int, *, taker: bool) -> int:
    """One fill's trade fee, rounded up to $0.0001 (price micro-dollars, size micro-contracts; either
    side's price: the fee is symmetric)."""
    if not taker and fees.fee_type not in MAKER_TYPES:
        return 0
    rate = (TAKER_RATE if taker else MAKER_RATE) * Fraction(fees.multiplier_ppm, ONE)
    exact = rate * Fraction(size * price * (ONE - price), ONE * ONE)
    return int(-(-exact // FEE_GRAIN)) * FEE_GRAIN


def fill_cash(price: int, size: int, *, buy: bool) -> int:
    """What a fill moves before fees (exact: 0.01 contract at a 4-decimal price is 6 decimals)."""
    cash = price * size // ONE
    return -cash if buy else cash


@dataclass
class FillFees:
    """One order's rounding accumulator: each fill's reported fee, as Kalshi computes it."""

    rounding: int = 0

    def charge(self, cash: int, fee: int) -> int:
        """The fee a fill reports, for its cash and its trade fee."""
        change = cash - fee
        rounding = change - (change // BALANCE_GRAIN) * BALANCE_GRAIN
        self.rounding += rounding
        if self.rounding > REBATE and fee + rounding >= REBATE:
            self.rounding -= REBATE
            return fee + rounding - REBATE
        return fee + rounding


def worst_fee(fees: KalshiFees, price: int, size: int) -> int:
    """The most a taker fill of `size` at `price` can cost in fees: its trade fee and a full grain of
    rounding (what an arbitrage's edge must cover)."""
    return trade_fee(fees, price, size, taker=True) + BALANCE_GRAIN - 1


# -- scheduled fee changes (Kalshi's `GET /series/fee_changes`) ----------------------------------------


@dataclass(frozen=True)
class FeeChange:
    """A change of a series' fee settings Kalshi scheduled: from `at_ms` on, its fills pay `fees`."""

    at_ms: int
    fees: KalshiFees


@dataclass(frozen=True)
class EventFeeChange:
    """A change of an event's fee override Kalshi scheduled: from `at_ms` on, the event's markets pay
    `fees`, or their series' settings again when it is None (the override cleared)."""

    at_ms: int
    fees: KalshiFees | None


@dataclass(frozen=True)
class FeeSchedule:
    """A market's fee settings as read at `read_at_ms` (`base`: the event's override when one is in force
    then, with the series' own settings in `series_base`; else the series', `series_base` None) and the
    changes Kalshi lists, the series' (`changes`) and the event's (`event_changes`), past and scheduled:
    what a fill pays is the settings in force at its own time, so a change scheduled for 14:00 applies to
    a 14:00:01 fill without waiting for the next read."""

    base: KalshiFees = KalshiFees()
    changes: tuple[FeeChange, ...] = ()
    read_at_ms: int = 0
    series_base: KalshiFees | None = None
    event_changes: tuple[EventFeeChange, ...] = ()

    def at(self, at_ms: int) -> KalshiFees:
        """The settings in force at `at_ms`: the event's override in force then, else the series'.
        After the read, each: the last change due since the read, else as read. Before it (a backtest):
        the last change due by then, as read when no change came between then and the read, and the
        dearest known settings when one did and the settings before it are not known (paper never
        flatters)."""
        override = _in_force([(c.at_ms, c.fees) for c in self.event_changes], at_ms, self.read_at_ms,
                             self.base if self.series_base is not None else None)
        if override is not None:
            return override
        return _in_force([(c.at_ms, c.fees) for c in self.changes], at_ms, self.read_at_ms,
                         self.series_base or self.base) or KalshiFees()

    @property
    def override_at_read(self) -> KalshiFees | None:
        return self.base if self.series_base is not None else None


_UNKNOWN = KalshiFees()  # settings in force before a change the desk knows of, but not what came before it


def _in_force(changes: list[tuple[int, KalshiFees | None]], at_ms: int, read_at_ms: int,
              as_read: KalshiFees | None) -> KalshiFees | None:
    """The settings (None: no override) one list of changes puts in force at `at_ms`, given what was
    in force at the read (`as_read`)."""
    if at_ms >= read_at_ms:
        due = [c for c in changes if read_at_ms < c[0] <= at_ms]
    elif not any(at_ms < c[0] <= read_at_ms for c in changes):
        return as_read
    else:
        due = [c for c in changes if c[0] <= at_ms]
        if not due:
            return _UNKNOWN
    return max(due, key=lambda c: c[0])[1] if due else as_read


def market_schedule(market: MarketInfo) -> FeeSchedule:
    """A Kalshi market's fee settings as the desk last read them, with their changes (its series' and
    its event's)."""
    series = market.kalshi_series_fees
    return FeeSchedule(KalshiFees(market.kalshi_fee_type, market.kalshi_fee_multiplier_ppm),
                       tuple(FeeChange(at, KalshiFees(kind, ppm)) for at, kind, ppm in market.kalshi_fee_changes),
                       market.kalshi_fees_read_at, None if series is None else KalshiFees(*series),
                       tuple(EventFeeChange(at, None if kind is None or ppm is None else KalshiFees(kind, ppm))
                             for at, kind, ppm in market.kalshi_event_fee_changes))


def market_fees_at(market: MarketInfo, at_ms: int) -> KalshiFees:
    """The Kalshi market's fee settings in force at `at_ms` (a fill's time, a decision's)."""
    return market_schedule(market).at(at_ms)
