"""Kalshi's REST answers as typed records in micro-units, read field by field from today's shapes
(Kalshi's OpenAPI document; the parts the tests check are kept in tests/fixtures/kalshi/).

Direction is read from `book_side` (`bid` is long YES, `ask` long NO: Kalshi's Order direction
page), never from the deprecated `side`/`action`. A record that cannot be read raises
KalshiShapeError (fixed.py) naming the record and the field; an unknown status or result is
named the same way rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from fractions import Fraction
from typing import Any

from engine.venues.kalshi.fixed import (
    KalshiShapeError,
    choice,
    count,
    dollars,
    field,
    flag,
    integer,
    items,
    maybe_dollars,
    maybe_time_ms,
    positive_count,
    price,
    shard,
    text,
    time_ms,
)

MARKET_STATUSES = ("initialized", "inactive", "active", "closed", "determined", "disputed", "amended", "finalized")
RESULTS = ("yes", "no", "scalar", "")
ORDER_STATUSES = ("resting", "canceled", "executed")
BOOK_SIDES = ("bid", "ask")
FEE_TYPES = ("quadratic", "quadratic_with_maker_fees", "quadratic_with_combo_maker_fees", "flat")
Levels = tuple[tuple[int, int], ...]
Band = tuple[int, int, int]  # (start, end, step), micro-dollars


@dataclass(frozen=True)
class Market:
    ticker: str
    event_ticker: str
    title: str
    status: str
    result: str
    market_type: str
    rules: str
    close_ms: int
    expected_expiration_ms: int | None
    yes_bid: int
    yes_ask: int
    price_ranges: tuple[Band, ...]
    price_level_structure: str
    settlement_value: int | None
    settlement_timer_s: int
    mve_collection: str | None
    # `default`, or `floor` (Kalshi's Settlement Bounds: YES holders paid part before settlement). The
    # OpenAPI 3.29 the desk's schemas come from has no such field: absent reads as `default`.
    settlement_bounds: str = "default"
    # How its strike is read (`strike_type`: greater_or_equal, ...) and the strikes (a crypto window's
    # price to beat is its `floor_strike`), when it has them (absent until its window opens).
    strike_type: str | None = None
    floor_strike: float | None = None
    cap_strike: float | None = None
    # The exchange shard it lives on (Exchange Sharding: "the exchange_index field is the authoritative
    # source of truth"); a market listed before sharding, which does not say, lives on the default, 0.
    exchange_index: int = 0

    @property
    def kind(self) -> str:
        """What a pair must be, `binary` (a YES pays $1 or nothing, all at settlement), or what it is
        instead: `scalar`, or `binary with a settlement floor` (any bounds but `default`)."""
        if self.market_type != "binary":
            return self.market_type
        return "binary" if self.settlement_bounds == "default" else \
            f"binary with a settlement {self.settlement_bounds} (settlement_bounds_type)"


@dataclass(frozen=True)
class Orderbook:
    ticker: str
    yes_bids: Levels  # (price, size), ascending as Kalshi sends them
    no_bids: Levels


@dataclass(frozen=True)
class Order:
    order_id: str
    client_order_id: str
    ticker: str
    book_side: str
    status: str
    yes_price: int
    initial_count: int
    fill_count: int
    remaining_count: int
    taker_fees: int
    maker_fees: int
    created_ms: int
    exchange_index: int | None = None  # its market's shard, as Kalshi says it (None: not said)


@dataclass(frozen=True)
class Fill:
    trade_id: str
    order_id: str
    ticker: str
    book_side: str
    count: int
    yes_price: int
    fee: int  # this fill's fee as Kalshi charged it (`fee_cost`)
    is_taker: bool
    at_ms: int
    client_order_id: str | None = None  # the streams say it; the REST fills no longer do (2026-03-30)
    exchange_index: int | None = None  # the shard it traded on, as Kalshi says it (None: not said)


@dataclass(frozen=True)
class Position:
    ticker: str
    position: int  # signed micro-contracts: + YES, - NO
    exposure: int
    fees_paid: int
    exchange_index: int = 0  # the shard it is held on (required in MarketPosition since OpenAPI 3.34.0)


@dataclass(frozen=True)
class Settlement:
    ticker: str
    event_ticker: str
    market_result: str  # yes | no | scalar
    value_cents: int | None  # a YES contract's payout, cents (None: not said)
    yes_count: int
    yes_cost: int
    no_count: int
    no_cost: int
    revenue: int  # micro-dollars paid into the balance
    fee: int
    settled_ms: int


@dataclass(frozen=True)
class Balance:
    balance: int  # micro-dollars free to trade (`balance_dollars`, exact to $0.0001)
    portfolio_value_cents: int
    # Each shard's free balance (`balance_breakdown`, micro-dollars); empty when Kalshi sends none (a
    # subaccount-restricted key).
    breakdown: dict[int, int] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    """One of the account's transfers between shards (`GET /portfolio/intra_exchange_instance_transfers`)."""

    transfer_id: str
    source: int  # shard
    destination: int
    amount: int  # micro-dollars
    status: str  # pending | complete
    created_ms: int


@dataclass(frozen=True)
class ExchangeStatus:
    exchange_active: bool
    trading_active: bool
    resume_ms: int | None


@dataclass(frozen=True)
class Limits:
    tier: str
    read: tuple[int, int]  # (tokens a second, bucket capacity)
    write: tuple[int, int]


@dataclass(frozen=True)
class Placed:
    """What a create or an amend answered: the order's counts now and what it filled at once."""

    order_id: str
    client_order_id: str
    fill_count: int
    remaining_count: int
    average_fill_price: int | None
    average_fee_paid: int | None
    ts_ms: int


@dataclass(frozen=True)
class ItemError:
    """Kalshi's refusal of one item of a batch (its ErrorResponse): the same codes a single request's
    refusal carries, without an HTTP status."""

    code: str
    message: str
    details: str

    def __str__(self) -> str:
        return f"Kalshi {self.code}: {self.message}" + (f" ({self.details})" if self.details else "")


@dataclass(frozen=True)
class BatchPlaced:
    """One item of a batch create's answer: the order taken (`placed`), or Kalshi's `error`."""

    client_order_id: str
    placed: Placed | None
    error: ItemError | None


@dataclass(frozen=True)
class BatchCancelled:
    """One item of a batch cancel's answer: the contracts it took off the book, or Kalshi's `error`."""

    order_id: str
    reduced_by: int
    error: ItemError | None


@dataclass(frozen=True)
class EndpointCosts:
    default: int
    costs: dict[tuple[str, str], int]  # (method, route under the API's root) -> tokens


@dataclass(frozen=True)
class Trade:
    trade_id: str
    ticker: str
    count: int
    yes_price: int
    taker_book_side: str
    is_block_trade: bool
    created_ms: int


@dataclass(frozen=True)
class Candle:
    end_ts: int
    open: int | None
    high: int | None
    low: int | None
    close: int | None
    volume: int


@dataclass(frozen=True)
class Series:
    ticker: str
    fee_type: str
    fee_multiplier: Fraction
    categories: tuple[str, ...] = ()  # its discovery categories (`Series.categories`, since OpenAPI 3.31)


@dataclass(frozen=True)
class FeeChange:
    """A change of a series' fee settings Kalshi scheduled (`GET /series/fee_changes`)."""

    change_id: str
    series_ticker: str
    fee_type: str
    fee_multiplier: Fraction
    at_ms: int  # `scheduled_ts`: from when the series' fills pay the new settings


@dataclass(frozen=True)
class Event:
    event_ticker: str
    series_ticker: str
    fees: Series | None  # the event's fee override (it takes precedence over its series'), when it has one


@dataclass(frozen=True)
class EventFeeChange:
    """A change of an event's fee override Kalshi scheduled (`GET /events/fee_changes`): from `at_ms` on,
    the event's markets pay `fees`, or their series' fees again when it is None (the override cleared)."""

    change_id: str
    event_ticker: str
    series_ticker: str
    fees: Series | None
    at_ms: int


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    scopes: tuple[str, ...]
    subaccount: int | None  # the one subaccount a restricted key reads and trades (None: unrestricted)


@dataclass(frozen=True)
class ApiKeys:
    """`GET /api_keys`: the account's keys, and when its location attestation expires (epoch ms; None:
    never attested). A past expiry means it has lapsed."""

    keys: tuple[ApiKey, ...]
    attestation_expires_ms: int | None

    def key(self, key_id: str) -> ApiKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)


def _where(kind: str, record: Any) -> str:
    name = record.get("ticker") or record.get("order_id") or record.get("trade_id") if isinstance(record, Mapping) \
        else None
    return f"{kind} {name}" if name else kind


def bands(record: Mapping[str, Any], where: str) -> tuple[Band, ...]:
    out = []
    for n, band in enumerate(items(record, "price_ranges", where)):
        at = f"{where}.price_ranges[{n}]"
        start, end, step = (dollars(band, k, at) for k in ("start", "end", "step"))
        if step <= 0 or end < start:
            raise KalshiShapeError(f"{at}: not a band ({start}..{end} by {step})")
        out.append((start, end, step))
    if not out:
        raise KalshiShapeError(f"{where}.price_ranges: empty (a market's valid prices are its bands)")
    return tuple(out)


def market(record: Mapping[str, Any]) -> Market:
    w = _where("market", record)
    return Market(
        ticker=text(record, "ticker", w), event_ticker=text(record, "event_ticker", w),
        title=str(record.get("title") or record.get("yes_sub_title") or ""),
        status=choice(record, "status", w, MARKET_STATUSES), result=choice(record, "result", w, RESULTS),
        market_type=choice(record, "market_type", w, ("binary", "scalar")),
        rules=f"{record.get('rules_primary') or ''} {record.get('rules_secondary') or ''}".strip(),
        close_ms=time_ms(record, "close_time", w), expected_expiration_ms=maybe_time_ms(
            record, "expected_expiration_time", w),
        yes_bid=dollars(record, "yes_bid_dollars", w), yes_ask=dollars(record, "yes_ask_dollars", w),
        price_ranges=bands(record, w), price_level_structure=text(record, "price_level_structure", w),
        settlement_value=maybe_dollars(record, "settlement_value_dollars", w),
        settlement_timer_s=integer(record, "settlement_timer_seconds", w),
        mve_collection=record.get("mve_collection_ticker") or None,
        settlement_bounds=str(record.get("settlement_bounds_type") or "default"),
        strike_type=record.get("strike_type") if isinstance(record.get("strike_type"), str) else None,
        floor_strike=_strike(record, "floor_strike", w), cap_strike=_strike(record, "cap_strike", w),
        exchange_index=shard(record, w) or 0)


def _strike(record: Mapping[str, Any], name: str, where: str) -> float | None:
    """A strike (a JSON number, Kalshi's `double`), or None when absent; anything else is named."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
            float("inf"), float("-inf")):
        raise KalshiShapeError(f"{where}.{name}: expected a number, got {value!r:.20}")
    return float(value)


def _levels(raw: Any, where: str) -> Levels:
    if not isinstance(raw, list):
        raise KalshiShapeError(f"{where}: expected a list of [price, count] levels")
    out = []
    for n, level in enumerate(raw):
        if not isinstance(level, list) or len(level) != 2:
            raise KalshiShapeError(f"{where}[{n}]: expected [price, count], got {level!r:.40}")
        pair = {"price": level[0], "count": level[1]}
        out.append((price(pair, "price", f"{where}[{n}]"), count(pair, "count", f"{where}[{n}]")))
    return tuple(out)


def orderbook(ticker: str, record: Mapping[str, Any]) -> Orderbook:
    w = f"orderbook {ticker}"
    return Orderbook(ticker, _levels(field(record, "yes_dollars", w), f"{w}.yes_dollars"),
                     _levels(field(record, "no_dollars", w), f"{w}.no_dollars"))


def order(record: Mapping[str, Any]) -> Order:
    w = _where("order", record)
    return Order(
        order_id=text(record, "order_id", w), client_order_id=str(record.get("client_order_id") or ""),
        ticker=text(record, "ticker", w), book_side=choice(record, "book_side", w, BOOK_SIDES),
        status=choice(record, "status", w, ORDER_STATUSES), yes_price=price(record, "yes_price_dollars", w),
        initial_count=count(record, "initial_count_fp", w), fill_count=count(record, "fill_count_fp", w),
        remaining_count=count(record, "remaining_count_fp", w), taker_fees=dollars(record, "taker_fees_dollars", w),
        maker_fees=dollars(record, "maker_fees_dollars", w),
        created_ms=maybe_time_ms(record, "created_time", w) or 0, exchange_index=shard(record, w))


def fill(record: Mapping[str, Any]) -> Fill:
    w = _where("fill", record)
    at = maybe_time_ms(record, "created_time", w)
    if at is None:
        at = integer(record, "ts", w) * 1000
    return Fill(trade_id=text(record, "trade_id", w), order_id=text(record, "order_id", w),
                ticker=text(record, "market_ticker" if "market_ticker" in record else "ticker", w),
                book_side=choice(record, "book_side", w, BOOK_SIDES), count=positive_count(record, "count_fp", w),
                yes_price=price(record, "yes_price_dollars", w), fee=dollars(record, "fee_cost", w),
                is_taker=flag(record, "is_taker", w), at_ms=at, exchange_index=shard(record, w))


def position(record: Mapping[str, Any]) -> Position:
    w = _where("position", record)
    return Position(text(record, "ticker", w), count(record, "position_fp", w, signed=True),
                    dollars(record, "market_exposure_dollars", w, signed=True),
                    dollars(record, "fees_paid_dollars", w), shard(record, w) or 0)


def settlement(record: Mapping[str, Any]) -> Settlement:
    w = _where("settlement", record)
    value = record.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise KalshiShapeError(f"{w}.value: expected whole cents, got {value!r:.20}")
    return Settlement(
        ticker=text(record, "ticker", w), event_ticker=text(record, "event_ticker", w),
        market_result=choice(record, "market_result", w, ("yes", "no", "scalar")), value_cents=value,
        yes_count=count(record, "yes_count_fp", w), yes_cost=dollars(record, "yes_total_cost_dollars", w),
        no_count=count(record, "no_count_fp", w), no_cost=dollars(record, "no_total_cost_dollars", w),
        revenue=integer(record, "revenue", w) * 10_000, fee=dollars(record, "fee_cost", w),
        settled_ms=time_ms(record, "settled_time", w))


def balance(record: Mapping[str, Any]) -> Balance:
    """Get Balance: the balance and, per shard, `balance_breakdown` (IndexedBalance: a fixed-point dollar
    `balance` per `exchange_index`, unlike the top level's integer cents); a shard named twice is refused."""
    breakdown: dict[int, int] = {}
    raw = record.get("balance_breakdown") if isinstance(record, Mapping) else None
    for n, row in enumerate(raw if isinstance(raw, list) else ([] if raw is None else [raw])):
        at = f"balance.balance_breakdown[{n}]"
        index = shard(row, at) if isinstance(row, Mapping) else None
        if index is None or index in breakdown:
            raise KalshiShapeError(f"{at}: no shard, or one named twice")
        breakdown[index] = dollars(row, "balance", at, signed=True)
    return Balance(dollars(record, "balance_dollars", "balance", signed=True),
                   integer(record, "portfolio_value", "balance"), breakdown)


def transfer(record: Mapping[str, Any]) -> Transfer:
    w = f"transfer {record.get('transfer_id')!r:.40}" if isinstance(record, Mapping) else "transfer"
    source, destination = shard(record, w, "source_exchange_shard"), shard(record, w, "destination_exchange_shard")
    if source is None or destination is None:
        raise KalshiShapeError(f"{w}: its shards are missing")
    return Transfer(text(record, "transfer_id", w), source, destination, dollars(record, "amount", w),
                    choice(record, "status", w, ("pending", "complete")), integer(record, "created_ts", w) * 1000)


def exchange_status(record: Mapping[str, Any]) -> ExchangeStatus:
    w = "exchange status"
    return ExchangeStatus(flag(record, "exchange_active", w), flag(record, "trading_active", w),
                          maybe_time_ms(record, "exchange_estimated_resume_time", w))


def maintenance_windows(record: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The schedule's maintenance windows, (start, end) epoch ms, soonest first."""
    schedule = field(record, "schedule", "exchange schedule")
    out = []
    for n, window in enumerate(items(schedule, "maintenance_windows", "exchange schedule")):
        at = f"exchange schedule.maintenance_windows[{n}]"
        out.append((time_ms(window, "start_datetime", at), time_ms(window, "end_datetime", at)))
    return sorted(out)


def limits(record: Mapping[str, Any]) -> Limits:
    w = "account limits"

    def bucket(name: str) -> tuple[int, int]:
        raw = field(record, name, w)
        return integer(raw, "refill_rate", f"{w}.{name}"), integer(raw, "bucket_capacity", f"{w}.{name}")

    return Limits(text(record, "usage_tier", w), bucket("read"), bucket("write"))


def endpoint_costs(record: Mapping[str, Any], root: str) -> EndpointCosts:
    """`/account/endpoint_costs`: the default cost and the endpoints that differ, their paths as written
    under the API's root (`/trade-api/v2/portfolio/...` read as `/portfolio/...`)."""
    w = "endpoint costs"
    costs: dict[tuple[str, str], int] = {}
    for n, entry in enumerate(items(record, "endpoint_costs", w)):
        at = f"{w}[{n}]"
        cost = integer(entry, "cost", at)
        if cost < 0:
            raise KalshiShapeError(f"{at}.cost: {cost} is negative")
        costs[(text(entry, "method", at).upper(), text(entry, "path", at).removeprefix(root))] = cost
    default = integer(record, "default_cost", w)
    if default <= 0:
        raise KalshiShapeError(f"{w}.default_cost: {default} is not a cost")
    return EndpointCosts(default, costs)


def _item_error(record: Mapping[str, Any], where: str) -> ItemError | None:
    raw = record.get("error")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise KalshiShapeError(f"{where}.error: expected an object, got {raw!r:.40}")
    return ItemError(str(raw.get("code") or "unknown"), str(raw.get("message") or "refused"),
                     str(raw.get("details") or ""))


def _batch_items(answer: Any, asked: int, what: str) -> list[Mapping[str, Any]]:
    """A batch answer's items: one object per item sent, in the same order (anything else is refused)."""
    found = items(answer if isinstance(answer, Mapping) else {}, "orders", what)
    if len(found) != asked or not all(isinstance(item, Mapping) for item in found):
        raise KalshiShapeError(f"{what}: {len(found)} answers to {asked} items")
    return found


def batch_placed(answer: Any, client_order_ids: list[str]) -> list[BatchPlaced]:
    """A batch create's answer, item by item; an item answered for another client order id than the one
    sent in its place is refused (the answers could not be matched to the orders)."""
    out = []
    for n, (record, sent) in enumerate(zip(_batch_items(answer, len(client_order_ids), "batch create answer"),
                                           client_order_ids, strict=True)):
        where = f"batch create answer[{n}]"
        said = record.get("client_order_id")
        if said not in (None, "", sent):
            raise KalshiShapeError(f"{where}: answers client order id {said!r:.60}, sent {sent!r:.60}")
        error = _item_error(record, where)
        out.append(BatchPlaced(sent, None if error is not None else placed(record, where), error))
    return out


def batch_cancelled(answer: Any, order_ids: list[str]) -> list[BatchCancelled]:
    """A batch cancel's answer, item by item (matched by order id, in the order sent)."""
    out = []
    for n, (record, sent) in enumerate(zip(_batch_items(answer, len(order_ids), "batch cancel answer"), order_ids,
                                           strict=True)):
        where = f"batch cancel answer[{n}]"
        if record.get("order_id") != sent:
            raise KalshiShapeError(f"{where}: answers order {record.get('order_id')!r:.60}, sent {sent!r:.60}")
        error = _item_error(record, where)
        out.append(BatchCancelled(sent, 0 if error is not None else count(record, "reduced_by", where), error))
    return out


def placed(record: Mapping[str, Any], where: str = "order answer") -> Placed:
    w = _where(where, record)
    return Placed(text(record, "order_id", w), str(record.get("client_order_id") or ""),
                  count(record, "fill_count", w) if record.get("fill_count") is not None else 0,
                  count(record, "remaining_count", w) if record.get("remaining_count") is not None else 0,
                  maybe_dollars(record, "average_fill_price", w), maybe_dollars(record, "average_fee_paid", w),
                  int(record.get("ts_ms") or 0))


def trade(record: Mapping[str, Any]) -> Trade:
    w = _where("trade", record)
    return Trade(text(record, "trade_id", w), text(record, "ticker", w), count(record, "count_fp", w),
                 price(record, "yes_price_dollars", w), choice(record, "taker_book_side", w, BOOK_SIDES),
                 bool(record.get("is_block_trade")), time_ms(record, "created_time", w))


def candle(record: Mapping[str, Any], ticker: str) -> Candle:
    w = f"candlestick of {ticker}"
    prices = field(record, "price", w)
    at = f"{w}.price"
    return Candle(integer(record, "end_period_ts", w), maybe_dollars(prices, "open_dollars", at),
                  maybe_dollars(prices, "high_dollars", at), maybe_dollars(prices, "low_dollars", at),
                  maybe_dollars(prices, "close_dollars", at), count(record, "volume_fp", w))


def event(record: Mapping[str, Any]) -> Event:
    w = _where("event", {"ticker": record.get("event_ticker")} if isinstance(record, Mapping) else record)
    ticker, series_ticker = text(record, "event_ticker", w), text(record, "series_ticker", w)
    override = None
    if record.get("fee_type_override") is not None:
        override = series({"ticker": series_ticker, "fee_type": record["fee_type_override"],
                           "fee_multiplier": record.get("fee_multiplier_override", 1)})
    return Event(ticker, series_ticker, override)


def series(record: Mapping[str, Any]) -> Series:
    w = _where("series", record)
    raw = record.get("categories")  # read where present: the desk requires nothing Kalshi may drop
    categories = tuple(c for c in raw if isinstance(c, str)) if isinstance(raw, list) else ()
    return Series(text(record, "ticker", w), choice(record, "fee_type", w, FEE_TYPES),
                  _multiplier(record, w), categories)


def event_fee_change(record: Mapping[str, Any]) -> EventFeeChange:
    """One of Kalshi's scheduled event fee changes: an override (a known fee type and a multiplier of 0
    or more) or, both fields null, the override cleared; one null without the other, an unknown type, a
    missing time are named (the whole list is then refused: the desk keeps the fees it has)."""
    w = f"event fee change {record.get('id')!r:.40}" if isinstance(record, Mapping) else "event fee change"
    event_ticker, series_ticker = text(record, "event_ticker", w), text(record, "series_ticker", w)
    kind, multiplier = record.get("fee_type_override"), record.get("fee_multiplier_override")
    fees = None
    if kind is not None or multiplier is not None:
        if kind is None or multiplier is None:
            raise KalshiShapeError(f"{w}: fee_type_override and fee_multiplier_override must be both set or both "
                                   f"null (got {kind!r:.30}, {multiplier!r:.20})")
        fees = series({"ticker": series_ticker, "fee_type": kind, "fee_multiplier": multiplier})
    return EventFeeChange(text(record, "id", w), event_ticker, series_ticker, fees, time_ms(record, "scheduled_ts", w))


def api_keys(record: Mapping[str, Any]) -> ApiKeys:
    w = "api keys"
    keys = []
    for n, raw in enumerate(items(record, "api_keys", w)):
        at = f"{w}[{n}]"
        scopes = tuple(s for s in items(raw, "scopes", at) if isinstance(s, str))
        sub = raw.get("subaccount")
        if sub is not None and (isinstance(sub, bool) or not isinstance(sub, int) or sub < 0):
            raise KalshiShapeError(f"{at}.subaccount: {sub!r:.20} is not a subaccount number")
        keys.append(ApiKey(text(raw, "api_key_id", at), scopes, sub))
    expires = record.get("api_key_region_expiration_ts")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int)):
        raise KalshiShapeError(f"{w}.api_key_region_expiration_ts: {expires!r:.30} is not Unix seconds")
    return ApiKeys(tuple(keys), None if expires is None else expires * 1000)


def fee_change(record: Mapping[str, Any]) -> FeeChange:
    """One of Kalshi's scheduled fee changes: an unknown fee type, a missing time or a negative
    multiplier is named (the whole list is then refused: the desk keeps the fees it has)."""
    w = f"series fee change {record.get('id')!r:.40}" if isinstance(record, Mapping) else "series fee change"
    return FeeChange(text(record, "id", w), text(record, "series_ticker", w), choice(record, "fee_type", w, FEE_TYPES),
                     _multiplier(record, w), time_ms(record, "scheduled_ts", w))


def _multiplier(record: Mapping[str, Any], w: str) -> Fraction:
    multiplier = field(record, "fee_multiplier", w)
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)):
        raise KalshiShapeError(f"{w}.fee_multiplier: expected a number, got {multiplier!r:.20}")
    if multiplier < 0:
        raise KalshiShapeError(f"{w}.fee_multiplier: {multiplier!r:.20} is negative")
    return Fraction(str(multiplier))


# -- the WebSocket's messages (Kalshi's AsyncAPI document) -------------------------------------------


@dataclass(frozen=True)
class BookSnapshot:
    ticker: str
    yes_bids: Levels
    no_bids: Levels  # in no-leg pricing (a NO bid at its own price), as Kalshi sends them by default


@dataclass(frozen=True)
class BookDelta:
    ticker: str
    side: str  # yes | no
    price: int  # the side's own price
    delta: int  # signed micro-contracts
    ts_ms: int | None
    client_order_id: str | None


def ws_snapshot(msg: Mapping[str, Any]) -> BookSnapshot:
    w = _where("orderbook_snapshot", {"ticker": msg.get("market_ticker")} if isinstance(msg, Mapping) else msg)
    ticker = text(msg, "market_ticker", w)
    return BookSnapshot(ticker, _levels(msg.get("yes_dollars_fp") or [], f"{w}.yes_dollars_fp"),
                        _levels(msg.get("no_dollars_fp") or [], f"{w}.no_dollars_fp"))


def ws_delta(msg: Mapping[str, Any]) -> BookDelta:
    w = _where("orderbook_delta", {"ticker": msg.get("market_ticker")} if isinstance(msg, Mapping) else msg)
    ts = msg.get("ts_ms")
    return BookDelta(text(msg, "market_ticker", w), choice(msg, "side", w, ("yes", "no")),
                     price(msg, "price_dollars", w), count(msg, "delta_fp", w, signed=True),
                     ts if isinstance(ts, int) and not isinstance(ts, bool) else None,
                     msg.get("client_order_id") or None)


def ws_fill(msg: Mapping[str, Any]) -> Fill:
    w = _where("fill message", msg)
    return Fill(trade_id=text(msg, "trade_id", w), order_id=text(msg, "order_id", w),
                ticker=text(msg, "market_ticker", w), book_side=choice(msg, "book_side", w, BOOK_SIDES),
                count=positive_count(msg, "count_fp", w), yes_price=price(msg, "yes_price_dollars", w),
                fee=dollars(msg, "fee_cost", w), is_taker=flag(msg, "is_taker", w), at_ms=integer(msg, "ts_ms", w),
                client_order_id=msg.get("client_order_id") or None, exchange_index=shard(msg, w))


def ws_order(msg: Mapping[str, Any]) -> Order:
    w = _where("user_order message", msg)
    return Order(order_id=text(msg, "order_id", w), client_order_id=str(msg.get("client_order_id") or ""),
                 ticker=text(msg, "ticker", w), book_side=choice(msg, "book_side", w, BOOK_SIDES),
                 status=choice(msg, "status", w, ORDER_STATUSES), yes_price=price(msg, "yes_price_dollars", w),
                 initial_count=count(msg, "initial_count_fp", w), fill_count=count(msg, "fill_count_fp", w),
                 remaining_count=count(msg, "remaining_count_fp", w),
                 taker_fees=dollars(msg, "taker_fees_dollars", w), maker_fees=dollars(msg, "maker_fees_dollars", w),
                 created_ms=int(msg.get("created_ts_ms") or 0), exchange_index=shard(msg, w))
