"""Realized gains per lot, as Form 8949 reports them: the one place the lot-matching rule lives.

**First in, first out.** Each purchase of a token (a BUY fill) is a lot: its shares and its cost basis,
the price paid plus the fee. Each disposition (a SELL fill, a merge or a venue's net of YES with NO, a
refund of a voided market, the market's resolution) takes shares from the oldest lots still held of
that token on that ledger, whichever strategy bought them (the strategies share one account), and
each lot it takes from is one row: its date acquired, the disposition's date, its shares, its part
of the proceeds (what the disposition paid, less its fee) and its part of the basis.

Exact: amounts are integer micro-units throughout. A lot sold in part keeps the rest of its basis
(its part is the basis times the shares taken over the shares it held, rounded down, so the parts
always add up to the whole); a disposition spread over several lots gives each its share of the
proceeds the same way, the last lot the remainder. Only the shown dollars are rounded, to the cent
(half away from zero), and so that the rows add up to what was paid, to the cent, each is rounded
carrying the remainder: a disposition's rows show the cents of its proceeds paid so far less the
cents of those paid before (in the order the rows run, oldest lot first), so they add up to its
proceeds rounded once ($7.17 split evenly over two lots is $3.59 then $3.58, never $3.59 twice); a lot's
rows, over every disposition that takes from it, add up to its basis the same way. Each row's gain
is its shown proceeds less its shown basis, so a row adds up as the form wants. A disposition of
more shares than the lots hold (the ledger never saw them bought) is a row with no date acquired
and no basis, said so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

CENT = 10_000  # micro-units in a cent


@dataclass(frozen=True, slots=True)
class Acquired:
    at: int  # epoch ms
    shares: int  # micro-shares
    cost: int  # micro-dollars paid, its fee included


@dataclass(frozen=True, slots=True)
class Disposed:
    at: int
    shares: int
    proceeds: int  # micro-dollars received, its fee taken off
    kind: str  # how it was disposed of (a sale, a resolution, ...)


@dataclass(frozen=True, slots=True)
class LotSale:
    """One lot's part in one disposition: micro-units, and the cents the row shows (carried remainders,
    the module's rounding)."""

    acquired_at: int | None  # None: shares the ledger never saw bought
    sold_at: int
    shares: int
    proceeds: int
    basis: int
    kind: str
    proceeds_cents: int
    basis_cents: int

    @property
    def gain(self) -> int:
        return self.proceeds - self.basis

    @property
    def gain_cents(self) -> int:
        return self.proceeds_cents - self.basis_cents


@dataclass(slots=True)
class _Lot:
    at: int
    shares: int
    basis: int
    taken: int = 0  # micro-units of its basis in the rows so far (their cents carry the remainder)

    def basis_cents(self, part: int) -> int:
        """The cents of the next `part` of its basis: its parts' cents add up to its basis's."""
        shown = cents(self.taken + part) - cents(self.taken)
        self.taken += part
        return shown


def match_fifo(events: Iterable[Acquired | Disposed]) -> tuple[list[LotSale], list[Acquired]]:
    """`events` of one token on one ledger, in the order they happened: (each disposition's rows,
    oldest lot first; the lots still held, as what is left of each)."""
    lots: deque[_Lot] = deque()
    sales: list[LotSale] = []
    for event in events:
        if isinstance(event, Acquired):
            if event.shares > 0:
                lots.append(_Lot(event.at, event.shares, event.cost))
            continue
        sales += _dispose(lots, event)
    return sales, [Acquired(lot.at, lot.shares, lot.basis) for lot in lots]


def _dispose(lots: deque[_Lot], event: Disposed) -> list[LotSale]:
    left, proceeds_left = event.shares, event.proceeds
    out: list[LotSale] = []
    while left > 0:
        lot = lots[0] if lots else None
        taken = left if lot is None else min(left, lot.shares)
        # Its part of the proceeds: by shares, the last part the remainder (the parts add up exactly).
        proceeds = proceeds_left if taken == left else event.proceeds * taken // event.shares
        paid = event.proceeds - proceeds_left  # before this part: its cents carry the remainder
        proceeds_cents = cents(paid + proceeds) - cents(paid)
        if lot is None:
            out.append(LotSale(None, event.at, taken, proceeds, 0, event.kind, proceeds_cents, 0))
        else:
            basis = lot.basis if taken == lot.shares else lot.basis * taken // lot.shares
            out.append(LotSale(lot.at, event.at, taken, proceeds, basis, event.kind, proceeds_cents,
                               lot.basis_cents(basis)))
            lot.shares -= taken
            lot.basis -= basis
            if lot.shares == 0:
                lots.popleft()
        left -= taken
        proceeds_left -= proceeds
    return out


def cents(micro: int) -> int:
    """Micro-units to whole cents, half away from zero."""
    whole = (abs(micro) + CENT // 2) // CENT
    return whole if micro >= 0 else -whole


def dollars(amount_cents: int) -> str:
    """Cents as dollars with two decimals ("-12.05"), no currency sign or grouping (a CSV cell)."""
    sign = "-" if amount_cents < 0 else ""
    whole, part = divmod(abs(amount_cents), 100)
    return f"{sign}{whole}.{part:02d}"


def day(at_ms: int) -> date:
    """The UTC date of an epoch-ms time."""
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).date()


def long_term(acquired: date, sold: date) -> bool:
    """Held more than a year (Form 8949's Part II): the holding period starts the day after the purchase
    and counts the day of the sale, so a sale after the purchase's anniversary (a Feb 29 purchase's is
    Feb 28: its year, from Mar 1, ends then)."""
    try:
        anniversary = acquired.replace(year=acquired.year + 1)
    except ValueError:  # Feb 29 into a year without one
        anniversary = date(acquired.year + 1, 2, 28)
    return sold > anniversary
