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
`scheduled_ts`); `FeeSchedule` keeps them with the settings read, and every fill (paper, backtest) and
every arbitrage decision is charged the settings in force at its own time (`FeeSchedule.at`).
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
class FeeSchedule:
    """A series' fee settings as read at `read_at_ms` (`base`) and the changes Kalshi lists for it, past
    and scheduled: what a fill pays is the settings in force at the fill's own time, so a change
    scheduled for 14:00 applies to a 14:00:01 fill without waiting for the next read."""

    base: KalshiFees = KalshiFees()
    changes: tuple[FeeChange, ...] = ()
    read_at_ms: int = 0

    def at(self, at_ms: int) -> KalshiFees:
        """The settings in force at `at_ms`. After the read: the last change due since the read, else
        the base. Before it (a backtest): the last change due by then, the base when no change came
        between then and the read, and the dearest known settings when one did and the settings before
        it are not known (paper never flatters)."""
        if at_ms >= self.read_at_ms:
            return _latest([c for c in self.changes if self.read_at_ms < c.at_ms <= at_ms], self.base)
        if not any(at_ms < c.at_ms <= self.read_at_ms for c in self.changes):
            return self.base
        return _latest([c for c in self.changes if c.at_ms <= at_ms], KalshiFees())


def _latest(due: list[FeeChange], otherwise: KalshiFees) -> KalshiFees:
    return max(due, key=lambda c: c.at_ms).fees if due else otherwise


def market_schedule(market: MarketInfo) -> FeeSchedule:
    """A Kalshi market's fee settings as the desk last read them, with their changes."""
    return FeeSchedule(KalshiFees(market.kalshi_fee_type, market.kalshi_fee_multiplier_ppm),
                       tuple(FeeChange(at, KalshiFees(kind, ppm)) for at, kind, ppm in market.kalshi_fee_changes),
                       market.kalshi_fees_read_at)


def market_fees_at(market: MarketInfo, at_ms: int) -> KalshiFees:
    """The Kalshi market's fee settings in force at `at_ms` (a fill's time, a decision's)."""
    return market_schedule(market).at(at_ms)
