"""Orders, fills, positions and accounts in Kalshi's terms, held in micro-units (units.py).

Kalshi's V2 orders are on the YES book only: a `bid` at p buys YES (or sells NO held, which nets
to the same exposure), an `ask` at p sells YES (or buys NO at 1 - p). A position is one signed
count (positive: YES contracts held, negative: NO). A fill that closes part of the position is
paid what the side sold brings; the rest opens it and costs the price of the side bought.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field

from .fees import Accumulator
from .units import MICRO

RESTING, CANCELED, EXECUTED = "resting", "canceled", "executed"
TIFS = ("fill_or_kill", "good_till_canceled", "immediate_or_cancel")
STP_KINDS = ("taker_at_cross", "maker")


@dataclass
class Order:
    order_id: str
    account: str
    client_order_id: str
    ticker: str
    book_side: str  # bid | ask
    price: int  # YES price, micro-dollars
    initial_count: int  # micro-contracts
    tif: str
    post_only: bool
    stp: str
    cancel_on_pause: bool
    created_ms: int
    seq: int
    remaining: int = 0
    shard: int = 0  # the exchange shard of its market, whose balance funds it (shards.py)
    fill_count: int = 0
    status: str = RESTING
    opening_left: int = 0  # of `remaining`, contracts that would open a position (what is reserved)
    reserved: int = 0  # micro-dollars held back from the balance for it
    taker_fees: int = 0
    maker_fees: int = 0
    taker_fill_cost: int = 0
    maker_fill_cost: int = 0
    updated_ms: int = 0
    last_update_reason: str = ""
    fees: Accumulator = field(default_factory=Accumulator)

    @property
    def bid(self) -> bool:
        return self.book_side == "bid"

    @property
    def outcome_side(self) -> str:
        return "yes" if self.bid else "no"

    def unit_cost(self) -> int:
        """What one opening contract of it costs: the YES price for a bid, the NO price for an ask."""
        return self.price if self.bid else MICRO - self.price


@dataclass
class Position:
    count: int = 0  # signed micro-contracts: + YES, - NO
    cost: int = 0  # micro-dollars paid for the contracts held now
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
    price: int  # YES price
    is_taker: bool
    fee: int  # what the fill reported: trade + rounding fee - rebate
    post_position: int
    at_ms: int


@dataclass
class Settlement:
    ticker: str
    event_ticker: str
    result: str  # yes | no | scalar
    value: int | None  # a YES contract's payout, micro-dollars (None: not said, as for a void)
    yes_count: int
    yes_cost: int
    no_count: int
    no_cost: int
    revenue_cents: int
    fee: int
    at_ms: int
    shard: int = 0  # the exchange shard of its market, where it was paid


@dataclass
class Account:
    """An account's money is kept per exchange shard (shards.py): `funds[shard]` is the micro-dollars
    available there (resting orders' reserves taken out); `balance` is their sum, and money paid in or
    out from outside (`balance` set) lands on the default shard, 0."""

    name: str
    opening: InitVar[int] = 0
    funds: dict[int, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)

    def __post_init__(self, opening: int) -> None:
        self.funds.setdefault(0, opening)

    @property
    def balance(self) -> int:
        return sum(self.funds.values())

    @balance.setter
    def balance(self, value: int) -> None:
        self.funds[0] = self.funds.get(0, 0) + value - self.balance

    def on(self, shard: int) -> int:
        return self.funds.get(shard, 0)

    def credit(self, shard: int, amount: int) -> None:
        self.funds[shard] = self.funds.get(shard, 0) + amount

    def position(self, ticker: str) -> Position:
        return self.positions.setdefault(ticker, Position())


def mul(count: int, price: int) -> int:
    """Micro-dollars of `count` micro-contracts at `price` micro-dollars (exact on Kalshi's grids:
    0.01 contract times a price of at most 4 decimals has at most 6)."""
    return count * price // MICRO


def apply_fill(account: Account, order: Order, count: int, price: int, now_ms: int) -> int:
    """Move the position for `count` contracts of `order` at YES `price`; returns the cash the fill
    moves before fees (negative: paid)."""
    held = account.position(order.ticker)
    closing = min(count, max(0, -held.count) if order.bid else max(0, held.count))
    opening = count - closing
    pay_open = price if order.bid else MICRO - price  # the side bought
    get_close = MICRO - price if order.bid else price  # the side sold back
    cash = mul(closing, get_close) - mul(opening, pay_open)
    if closing:
        basis = held.cost * closing // abs(held.count)
        held.realized_pnl += mul(closing, get_close) - basis
        held.cost -= basis
    held.cost += mul(opening, pay_open)
    held.count += count if order.bid else -count
    if held.count == 0:
        held.cost = 0
    held.total_traded += mul(count, pay_open if opening else get_close)
    held.updated_ms = now_ms
    return cash
