"""Orders, accounts and the money a fill moves, in Kalshi's terms: whole cents, whole contracts.

Kalshi treats every order as a bid or an ask for YES: buying YES at p and selling NO at 100 - p
are both YES bids at p; selling YES at p and buying NO at 100 - p are both YES asks at p. A
position is one signed count (positive: YES contracts held, negative: NO). A fill that closes
part of the position pays out; the rest opens it and costs the price of the side bought.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT = 100  # cents a contract pays at settlement
TAKER_RATE = (7, 100)  # 0.07 x C x P x (1 - P), rounded up to the next cent
MAKER_RATE = (7, 400)  # 0.0175 x C x P x (1 - P), on markets that charge makers
RESTING, CANCELED, EXECUTED = "resting", "canceled", "executed"
TIFS = {"good_till_canceled", "immediate_or_cancel", "fill_or_kill"}
STP_KINDS = {"taker_at_cross", "maker"}


def fee(rate: tuple[int, int], count: int, yes_price: int) -> int:
    """Cents: ceil(rate x count x P x (1 - P)), P the price in dollars (symmetric in YES and NO)."""
    numerator, denominator = rate
    raw = numerator * count * yes_price * (CONTRACT - yes_price)
    return -(-raw // (denominator * CONTRACT))


@dataclass
class Order:
    order_id: str
    account: str
    client_order_id: str
    ticker: str
    side: str  # yes | no
    action: str  # buy | sell
    type: str  # limit | market
    yes_price: int  # cents, in YES terms
    initial_count: int
    tif: str
    post_only: bool
    stp: str
    created_ms: int
    seq: int
    remaining: int = 0
    fill_count: int = 0
    status: str = RESTING
    reserved: int = 0  # cents held back for what this order may still cost
    taker_fees: int = 0
    maker_fees: int = 0
    taker_fill_cost: int = 0
    maker_fill_cost: int = 0
    updated_ms: int = 0

    @property
    def bids_yes(self) -> bool:
        """A YES bid (buy YES, or sell NO), else a YES ask."""
        return (self.side == "yes") == (self.action == "buy")

    def own_price(self, yes_price: int) -> int:
        """A YES-terms price in this order's side's terms."""
        return yes_price if self.side == "yes" else CONTRACT - yes_price


@dataclass
class Position:
    count: int = 0  # signed: + YES, - NO
    cost: int = 0  # cents paid for the contracts held now
    total_traded: int = 0
    realized_pnl: int = 0
    fees_paid: int = 0
    updated_ms: int = 0


@dataclass
class Fill:
    fill_id: str
    trade_id: str
    order: Order
    count: int
    yes_price: int
    is_taker: bool
    fee: int
    at_ms: int


@dataclass
class Settlement:
    ticker: str
    event_ticker: str
    result: str
    yes_count: int
    yes_cost: int
    no_count: int
    no_cost: int
    revenue: int
    at_ms: int


@dataclass
class Account:
    name: str
    balance: int  # cents available (resting orders' reserves already taken out)
    positions: dict[str, Position] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)

    def position(self, ticker: str) -> Position:
        return self.positions.setdefault(ticker, Position())


def opening_cost(bids_yes: bool, yes_price: int, count: int, closable: int) -> int:
    """Cents the contracts of an order that open (or add to) a position cost at most."""
    opening = max(0, count - closable)
    return opening * (yes_price if bids_yes else CONTRACT - yes_price)


def apply_fill(account: Account, order: Order, count: int, yes_price: int, fee_cents: int, now_ms: int) -> None:
    """Move the account's cash and position for `count` contracts of `order` at `yes_price`."""
    held = account.position(order.ticker)
    closing = min(count, max(0, -held.count) if order.bids_yes else max(0, held.count))
    opening = count - closing
    pay_open = yes_price if order.bids_yes else CONTRACT - yes_price  # the side bought
    get_close = CONTRACT - yes_price if order.bids_yes else yes_price  # the side sold
    if closing:
        basis = held.cost * closing // abs(held.count)
        held.realized_pnl += closing * get_close - basis
        held.cost -= basis
    held.cost += opening * pay_open
    held.count += count if order.bids_yes else -count
    if held.count == 0:
        held.cost = 0
    held.total_traded += count * order.own_price(yes_price)
    held.fees_paid += fee_cents
    held.updated_ms = now_ms
    account.balance += closing * get_close - opening * pay_open - fee_cents
