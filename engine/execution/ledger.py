"""Pure ledger arithmetic: positions folded from fills, cash, marks. No I/O.

Positions are always a function of fills (plus a market's resolution), so recomputing one
from its fills gives the same answer as applying events incrementally, in any order.
Average-cost accounting; fees are tracked separately from realized PnL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contracts.average_cost import sell_step
from contracts.domain import MICRO, Side, notional
from contracts.order_status import SETTLED_FILL
from contracts.venue_rules import FEE_STEP as FEE_STEP
from contracts.venue_rules import taker_fee as taker_fee
from engine.venues.base import TradeStatus

SETTLED = frozenset(SETTLED_FILL)


@dataclass(frozen=True, slots=True)
class FillFact:
    """The parts of a fill the ledger needs."""

    side: Side
    price: int
    size: int
    fee: int
    status: TradeStatus


@dataclass(frozen=True, slots=True)
class PositionTotals:
    settled: int = 0  # shares from MINED/CONFIRMED fills
    pending: int = 0  # shares from pending fills (MATCHED, not broadcast, RETRYING; negative for sells)
    cost: int = 0  # micro-pUSD cost basis of what is held
    realized: int = 0  # micro-pUSD, before fees
    fees: int = 0

    @property
    def size(self) -> int:
        return self.settled + self.pending

    @property
    def sellable(self) -> int:
        """What may be sold: settled shares, less what pending sells already promised."""
        return max(0, self.settled + min(0, self.pending))


@dataclass(frozen=True, slots=True)
class FillStep:
    """What one fill does to a holding under average cost."""

    shares: int  # signed change in shares held
    cost: int  # the holding's cost basis after the fill
    realized: int | None  # PnL (before fees) a sell closed; None for a buy or a ghost fill
    fee: int  # the fee it paid (a ghost fill pays none)


def apply_fill(held: int, cost: int, fill: FillFact) -> FillStep:
    """One fill against `held` shares costing `cost`: a sell removes the average cost of the
    shares it closes (none when nothing is held); a FAILED (ghost) fill never happened.

    The average-cost rule itself is contracts/average_cost.py's (the dashboard's trade PnL reads
    fills back through it); `fold` and the backtest's per-trade PnL both step through here.
    """
    if fill.status is TradeStatus.FAILED:
        return FillStep(0, cost, None, 0)
    if fill.side is Side.BUY:
        return FillStep(fill.size, cost + notional(fill.price, fill.size), None, fill.fee)
    removed, realized = sell_step(held, cost, fill.price, fill.size)
    return FillStep(-fill.size, cost - removed, realized, fill.fee)


def add_fill(totals: PositionTotals, fill: FillFact) -> PositionTotals:
    """A position after one more fill, later in match order than every fill it holds."""
    step = apply_fill(totals.size, totals.cost, fill)
    settled, pending = totals.settled, totals.pending
    if fill.status in SETTLED:
        settled += step.shares
    else:
        pending += step.shares
    return PositionTotals(settled, pending, step.cost, totals.realized + (step.realized or 0), totals.fees + step.fee)


def restatus(totals: PositionTotals, fill: FillFact, previous: TradeStatus) -> PositionTotals | None:
    """A position after one of its fills moved from `previous` to `fill.status`, when that
    is known without refolding: neither status is FAILED (the fill's shares, cost and fee
    stand), so at most its shares move between pending and settled. None: refold."""
    if TradeStatus.FAILED in (previous, fill.status):
        return None
    was, now = previous in SETTLED, fill.status in SETTLED
    if was == now:
        return totals
    shares = fill.size if fill.side is Side.BUY else -fill.size
    moved = shares if now else -shares
    return PositionTotals(totals.settled + moved, totals.pending - moved, totals.cost, totals.realized, totals.fees)


def fold(fills: Iterable[FillFact], payout: int | None = None) -> PositionTotals:
    """Fold fills (in match order) into a position; `payout` (what a share paid: 1, 0, or 0.5 in a
    50/50) closes it at resolution."""
    totals = PositionTotals()
    for fill in fills:
        totals = add_fill(totals, fill)
    if payout is not None and totals.size > 0:
        realized = totals.realized + notional(payout, totals.size) - totals.cost
        return PositionTotals(0, 0, 0, realized, totals.fees)
    return totals


def cash_effect(fill: FillFact) -> int:
    """What a fill does to cash: buys pay, sells receive, both pay fees; ghosts do nothing."""
    if fill.status is TradeStatus.FAILED:
        return 0
    amount = notional(fill.price, fill.size)
    return (-amount if fill.side is Side.BUY else amount) - fill.fee


def merge_yes_price(yes: PositionTotals, no: PositionTotals) -> int:
    """The YES leg's price when complete sets are merged (the NO leg's is ONE minus it): each
    side at its share of the pair's average cost, so a set (worth exactly 1) realizes
    1 - (its YES average cost + its NO average cost) in total, split in proportion to cost.
    A side held at no cost (or nothing held) splits evenly."""
    yes_avg = yes.cost * MICRO // yes.size if yes.size > 0 else 0
    no_avg = no.cost * MICRO // no.size if no.size > 0 else 0
    if yes_avg + no_avg <= 0:
        return MICRO // 2
    return MICRO * yes_avg // (yes_avg + no_avg)
