"""A Kalshi market and its life, as Kalshi's Market Lifecycle page describes it: `initialized`
until it opens, `active`, `inactive` while the exchange pauses it (resting orders are cancelled
when it comes back), `closed` once its close time passes (every order operation refused, resting
orders cancelled), `determined` with its result while the settlement timer runs, `disputed` and
`amended` if the result is challenged, `finalized` once positions are paid."""

from __future__ import annotations

from dataclasses import dataclass, field

from .fees import EventFees, SeriesFees
from .grid import Grid

TRADING = frozenset({"active"})
SETTLED = "finalized"


@dataclass
class Market:
    ticker: str
    event_ticker: str
    series_ticker: str
    market_id: str
    title: str
    yes_sub_title: str
    rules_primary: str
    rules_secondary: str
    open_ms: int
    close_ms: int
    grid: Grid
    fees: EventFees | SeriesFees  # its event's override over its series' fees (shared by the event's markets)
    settlement_timer_s: int = 1
    status: str = "active"
    result: str = ""  # yes | no | scalar once determined ("" for a void)
    settlement_value: int | None = None  # a YES contract's payout, micro-dollars, once determined
    determined_ms: int | None = None
    settled_ms: int | None = None
    voided: bool = False
    last_price: int = 0
    volume: int = 0
    market_type: str = "binary"
    mve_collection: str | None = None  # a multivariate (parlay) leg: its collection's ticker
    # Kalshi's Settlement Bounds page: `default`, or `floor` (a scalar payout partly paid to YES holders as
    # the floor rises; not live at Kalshi yet). The simulator lists the field; a test sets `floor`.
    settlement_bounds: str = "default"
    settlement_floor: int = 0
    updated_ms: int = 0
    # How the market's strike is read (Kalshi's `strike_type`, `floor_strike`, `cap_strike`): a crypto
    # window's YES pays when its settlement value is at or above `floor_strike` (`greater_or_equal`).
    strike_type: str | None = None
    floor_strike: float | None = None
    cap_strike: float | None = None
    exchange_index: int = 0  # the exchange shard it lives on, with its whole event (shards.py)
    history: list[tuple[int, int, int, int]] = field(default_factory=list)  # (at_ms, price, count, 0)

    @property
    def trading(self) -> bool:
        return self.status in TRADING
