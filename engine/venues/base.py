"""The Venue protocol: what the executor asks of a venue, and what a venue reports back.

Venues are I/O only. They never decide what to trade and never write trading state; the
executor persists every request before sending it (intent before network) and applies
every report. Paper (engine/venues/paper.py) and live (engine/venues/polymarket/venue.py) both
implement this protocol, so paper and live share everything but the venue.

Order placement is two steps so the executor can commit the signed order and its id
before any network call: `prepare` (sign; no network) then `submit`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from contracts.domain import Side, Tif
from contracts.order_status import TradeStatus, VenueOrderStatus

VenueMode = Literal["paper", "live"]


def venue_status(raw: str) -> tuple[VenueOrderStatus, str | None]:
    """An order status as the venue writes it (`LIVE` or `ORDER_STATUS_LIVE`, any case) and the
    reason it gives: any `CANCELED_<reason>` is a cancellation with that reason, in the venue's
    own words ("NOT_ENOUGH_BALANCE", "order couldn't be fully filled. ..."). ValueError for a
    status the venue has not sent before (the wire parser says so once and keeps the order working)."""
    text = raw.strip()
    if text.upper().startswith("ORDER_STATUS_"):
        text = text[len("ORDER_STATUS_"):]
    upper = text.upper()
    for spelling in ("CANCELED_", "CANCELLED_"):
        if upper.startswith(spelling) and len(text) > len(spelling):
            return VenueOrderStatus.CANCELED, text[len(spelling):]
    return VenueOrderStatus("CANCELED" if upper == "CANCELLED" else upper), None


def normalize_trade_status(raw: str) -> TradeStatus:
    return TradeStatus(raw.strip().upper().removeprefix("TRADE_STATUS_"))


class VenueError(Exception):
    """A venue call failed. `retryable` says whether trying again may succeed."""

    retryable = False


class OrderRejected(VenueError):
    """The venue refused the order (bad tick, size, balance, post-only crossing, ...)."""


class RegionBlocked(OrderRejected):
    """The venue refuses this server's country or region (a geoblock: contracts/geoblock.py), never a
    credentials error; an order it answers so was not taken."""


class VenueUnavailable(VenueError):
    """Timeouts and 5xx after the adapter's own retries: the outcome is unknown."""

    retryable = True


class VenueBusy(VenueError):
    """The venue answered that it cannot take the request now, and did nothing with it:
    HTTP 425 while its matching engine restarts (`maintenance`), or 429 when rate-limited.
    Not a fault: a placement it refused is simply not placed; `retry_after_s` is the
    venue's Retry-After, when it sent one."""

    retryable = True

    def __init__(self, message: str, *, maintenance: bool, retry_after_s: float | None = None):
        super().__init__(message)
        self.maintenance = maintenance
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A legal order in token space (the planner has already applied tick and size rules)."""

    client_id: str
    condition_id: str
    token_id: str
    side: Side
    price: int
    size: int
    tif: Tif = Tif.GTC
    post_only: bool = False
    expires_at_s: int = 0  # GTD only, unix seconds
    neg_risk: bool = False
    tick: int = 10_000
    protocol_v2: bool = False  # a Protocol V2 market: token_id is a position id, signed for ExchangeV3


@dataclass(frozen=True, slots=True)
class PreparedOrder:
    request: OrderRequest
    venue_order_id: str  # live: the EIP-712 digest the venue will use as orderID
    payload: str  # the exact JSON that will be sent (signed order)
    record: str  # what the ledger keeps of it: the payload without credentials (the API key is `owner`)


@dataclass(frozen=True, slots=True)
class PlaceResult:
    venue_order_id: str
    status: VenueOrderStatus
    trade_ids: tuple[str, ...] = ()
    error: str | None = None
    filled: int | None = None  # shares the answer says matched at once (None: it did not say)


@dataclass(frozen=True, slots=True)
class CancelResult:
    canceled: tuple[str, ...] = ()
    not_canceled: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order as the venue reports it (open orders, lookups, user-channel updates)."""

    venue_order_id: str
    condition_id: str
    token_id: str
    side: Side
    price: int
    size: int
    filled: int
    status: VenueOrderStatus
    created_ms: int = 0
    reason: str | None = None  # why the venue ended it, as it said (the <reason> of CANCELED_<reason>)


@dataclass(frozen=True, slots=True)
class VenueTrade:
    """One of our fills: `side`, `price` and `size` are our order's, not the taker's."""

    trade_id: str
    venue_order_id: str
    condition_id: str
    token_id: str
    side: Side
    price: int
    size: int
    fee: int
    status: TradeStatus
    liquidity: Literal["MAKER", "TAKER"]
    matched_ms: int
    # False: a taker fill on a market whose fee schedule could not be read, so `fee` is 0 for
    # want of it, not because the venue charged nothing (the applier raises FEE_UNKNOWN).
    fee_known: bool = True


@dataclass(frozen=True, slots=True)
class Balances:
    collateral: int
    tokens: Mapping[str, int] = field(default_factory=dict)
    # False: the collateral leaves out what the venue holds back for resting orders (Kalshi's balance
    # is what is free to trade, and how much a resting order holds is not published), so it cannot be
    # compared with the ledger's cash now; the token balances still can.
    collateral_exact: bool = True
    # Markets (condition ids) the venue has settled, as it lists them wherever it keeps them (Kalshi: its
    # settled positions, live or archived): their tokens are being paid, not missing, whatever the ledger
    # still holds until it books the settlement.
    settled: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order: VenueOrder


@dataclass(frozen=True, slots=True)
class TradeEvent:
    trade: VenueTrade


VenueEvent = OrderEvent | TradeEvent
EventSink = Callable[[VenueEvent], None]


class Venue(Protocol):
    mode: VenueMode
    # The venue's reports (order updates, trades), in the order it sent them, from `start` on.
    # The venue owns the queue and only puts; whoever consumes them (the executor's inbox)
    # drains it: nothing is handed down to the venue to call back.
    events: asyncio.Queue[VenueEvent]

    async def start(self) -> None:
        """Connect and begin delivering order and trade events onto `events`."""

    async def prepare(self, request: OrderRequest) -> PreparedOrder:
        """Build (and sign) the order without any network call."""

    async def submit(self, prepared: PreparedOrder) -> PlaceResult:
        """Send it. A retried or timed-out send never creates a second order."""

    async def submit_many(self, prepared: Sequence[PreparedOrder]) -> list[PlaceResult]:
        """Send up to 15 orders in one request, results in the same order."""

    async def cancel(self, venue_order_ids: Sequence[str]) -> CancelResult: ...

    async def cancel_all(self) -> CancelResult:
        """Safety interrupt: jumps every queue, drops queued placements, not rate-limited."""

    async def get_order(self, venue_order_id: str) -> VenueOrder | None: ...

    async def open_orders(self) -> list[VenueOrder]: ...

    async def trades(self, *, after_ms: int | None = None) -> list[VenueTrade]: ...

    async def balances(self, token_ids: Sequence[str]) -> Balances: ...

    async def close(self) -> None: ...


@runtime_checkable
class SaysWhenSent(Protocol):
    """A venue whose cancel can say when its request has left (a network venue's): the executor
    then records the cancel while the request travels, instead of before it leaves
    (engine/execution/cancels.py). A venue without it is asked only once the cancel is recorded."""

    async def cancel_sent(self, venue_order_ids: Sequence[str], written: asyncio.Future[None] | None) -> CancelResult:
        """`cancel`, setting `written` once the request has been handed to the socket (never, if it
        is not: the caller then waits for the answer)."""


@dataclass(frozen=True, slots=True)
class QuoteHold:
    """Why a venue would refuse a market's new orders now, said before any is sent (the decisions log
    names `reason`), and which of them may still go."""

    why: str
    reason: str  # VENUE_UNFUNDED: the part of the account that funds it is short; VENUE_RESTRICTED: the venue bars
    # the account there; VENUE_MAINTENANCE: a window in which it would cancel what rests
    sells: bool = False  # an order that spends nothing (a sale of shares held) still goes
    takes: bool = False  # an order that does not rest (fill-and-kill, fill-or-kill) still goes


@runtime_checkable
class SectionedFunds(Protocol):
    """The funds of a live venue whose account's money is split into sections, each market's orders funded
    by its section alone (Kalshi's exchange shards): it says, before the desk places, which markets' new
    orders their section cannot fund (and what else the venue would refuse now), what each section holds
    for the operator's status, and moves money between sections only when the operator asks."""

    def quote_holds(self, wanted: Mapping[str, Sequence[tuple[int, int]]],
                    resting: Mapping[str, Sequence[tuple[int, int]]], now_ms: int) -> Mapping[str, QuoteHold]:
        """Of the markets in `wanted` (condition id -> the (price, shares) its quotes would buy; empty
        when they only sell shares held), those whose new orders it would refuse now, with why.
        `resting`: the (price, shares) the desk's buy orders already resting there still hold back."""

    def funding(self) -> dict[str, object]:
        """Each section's money, what the desk's orders need there, the shortfalls and the moves that
        would cover them (JSON), for `engine status` and the dashboard."""

    async def move_funds(self, source: int, destination: int, amount: int) -> dict[str, object]:
        """Move `amount` (micro-units of its cash) between two sections; the answer says what the venue
        accepted (accepted is not arrived)."""

    async def set_allocation(self, split: Mapping[int, int]) -> dict[str, object]:
        """Ask the venue to keep a target split of the free money (percent per section; empty: none)."""


@runtime_checkable
class SplitAccount(Protocol):
    """A live venue whose account's money is split into sections: `funds` says and moves them."""

    funds: SectionedFunds
