"""The JSON Kalshi answers with today: every price and amount a fixed-point dollar string, every
count a fixed-point `_fp` string (the integer cent and count fields were removed in March 2026),
direction as `outcome_side`/`book_side` (the legacy `side`/`action` still sent beside them), times
in RFC 3339 UTC. None of the fields Kalshi removed since (`Market.tick_size`, `response_price_units`,
`fractional_trading_enabled` and `liquidity_dollars`, `MarketPosition.resting_orders_count`,
`EventData.available_on_brokers`) is sent. Each shape is checked against Kalshi's published schema in
the tests (conformance.py refuses a removed field wherever it appears)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .exchange import Book, PublicTrade
from .fees import EventFeeChange, EventFees, FeeChange, FeeSchedule
from .market import Market
from .orders import Account, Fill, Order, Position, Settlement
from .units import MICRO, count, dollars

LEGACY_ACTION = {"bid": ("yes", "buy"), "ask": ("yes", "sell")}  # (side, action) as V2 orders are written


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def market(m: Market, book: Book) -> dict[str, Any]:
    yes, no = book.levels()
    yes_bid = max(yes, default=0)
    no_bid = max(no, default=0)
    body: dict[str, Any] = {
        "ticker": m.ticker, "event_ticker": m.event_ticker, "market_type": m.market_type, "title": m.title,
        "subtitle": m.yes_sub_title, "yes_sub_title": m.yes_sub_title, "no_sub_title": f"Not {m.yes_sub_title}",
        "created_time": iso(m.open_ms), "updated_time": iso(m.updated_ms or m.open_ms), "open_time": iso(m.open_ms),
        "close_time": iso(m.close_ms), "expected_expiration_time": iso(m.close_ms),
        "latest_expiration_time": iso(m.close_ms + 7 * 86_400_000), "settlement_timer_seconds": m.settlement_timer_s,
        "status": m.status, "notional_value_dollars": dollars(MICRO),
        "yes_bid_dollars": dollars(yes_bid), "yes_bid_size_fp": count(yes.get(yes_bid, 0)),
        "yes_ask_dollars": dollars(MICRO - no_bid if no_bid else MICRO), "yes_ask_size_fp": count(no.get(no_bid, 0)),
        "no_bid_dollars": dollars(no_bid), "no_ask_dollars": dollars(MICRO - yes_bid if yes_bid else MICRO),
        "last_price_dollars": dollars(m.last_price), "previous_yes_bid_dollars": dollars(0),
        "previous_yes_ask_dollars": dollars(0), "previous_price_dollars": dollars(0), "volume_fp": count(m.volume),
        "volume_24h_fp": count(m.volume), "open_interest_fp": count(0),
        "result": m.result, "can_close_early": True, "expiration_value": "", "rules_primary": m.rules_primary,
        "rules_secondary": m.rules_secondary, "price_level_structure": m.grid.structure,
        "price_ranges": m.grid.ranges(), "exchange_index": m.exchange_index,
        "settlement_bounds_type": m.settlement_bounds,
    }
    if m.settlement_bounds == "floor":
        body["settlement_floor_dollars"] = dollars(m.settlement_floor)
    if m.settlement_value is not None:
        body["settlement_value_dollars"] = dollars(m.settlement_value)
    if m.settled_ms is not None:
        body["settlement_ts"] = iso(m.settled_ms)
    if m.mve_collection is not None:
        body["mve_collection_ticker"] = m.mve_collection
    if m.strike_type is not None:
        body["strike_type"] = m.strike_type
        for name in ("floor_strike", "cap_strike"):
            if getattr(m, name) is not None:
                body[name] = getattr(m, name)
    return body


def levels(book: Book, depth: int) -> dict[str, Any]:
    """Both sides' bids, ascending (the best last), `depth` best levels each (0: all)."""
    yes, no = book.levels()

    def side(found: dict[int, int]) -> list[list[str]]:
        best = sorted(found.items())
        return [[dollars(p), count(q)] for p, q in (best[-depth:] if depth else best)]

    return {"yes_dollars": side(yes), "no_dollars": side(no)}


def order(o: Order) -> dict[str, Any]:
    side, action = LEGACY_ACTION[o.book_side]
    return {
        "order_id": o.order_id, "user_id": o.account, "client_order_id": o.client_order_id, "ticker": o.ticker,
        "side": side, "action": action, "outcome_side": o.outcome_side, "book_side": o.book_side, "type": "limit",
        "status": o.status, "yes_price_dollars": dollars(o.price), "no_price_dollars": dollars(MICRO - o.price),
        "fill_count_fp": count(o.fill_count), "remaining_count_fp": count(o.remaining),
        "initial_count_fp": count(o.initial_count), "taker_fees_dollars": dollars(o.taker_fees, 6),
        "maker_fees_dollars": dollars(o.maker_fees, 6), "taker_fill_cost_dollars": dollars(o.taker_fill_cost, 6),
        "maker_fill_cost_dollars": dollars(o.maker_fill_cost, 6), "created_time": iso(o.created_ms),
        "last_update_time": iso(o.updated_ms), "expiration_time": None, "self_trade_prevention_type": o.stp,
        "order_group_id": None, "cancel_order_on_pause": o.cancel_on_pause, "subaccount_number": 0,
        "exchange_index": o.shard,
    }


def user_order(o: Order) -> dict[str, Any]:
    body = {k: v for k, v in order(o).items() if k not in ("action", "type", "no_price_dollars", "expiration_time",
                                                             "order_group_id", "cancel_order_on_pause")}
    body.update({"is_yes": o.bid, "created_ts_ms": o.created_ms, "last_updated_ts_ms": o.updated_ms})
    if o.last_update_reason:
        body["last_update_reason"] = o.last_update_reason
    return body


def fill(f: Fill) -> dict[str, Any]:
    o = f.order
    side, action = LEGACY_ACTION[o.book_side]
    return {
        "fill_id": f.fill_id, "trade_id": f.trade_id, "order_id": o.order_id, "ticker": o.ticker,
        "market_ticker": o.ticker, "side": side, "action": action, "outcome_side": o.outcome_side,
        "book_side": o.book_side, "count_fp": count(f.count), "yes_price_dollars": dollars(f.price),
        "no_price_dollars": dollars(MICRO - f.price), "is_taker": f.is_taker, "created_time": iso(f.at_ms),
        "fee_cost": dollars(f.fee, 6), "ts": f.at_ms // 1000, "subaccount_number": 0, "exchange_index": o.shard,
    }


def ws_fill(f: Fill) -> dict[str, Any]:
    o = f.order
    side, action = LEGACY_ACTION[o.book_side]
    body: dict[str, Any] = {
        "trade_id": f.trade_id, "order_id": o.order_id, "market_ticker": o.ticker, "exchange_index": o.shard,
        "is_taker": f.is_taker, "side": side, "yes_price_dollars": dollars(f.price), "count_fp": count(f.count),
        "fee_cost": dollars(f.fee, 6), "action": action, "ts": f.at_ms // 1000, "ts_ms": f.at_ms,
        "post_position_fp": count(f.post_position), "purchased_side": o.outcome_side,
        "outcome_side": o.outcome_side, "book_side": o.book_side,
    }
    if o.client_order_id:
        body["client_order_id"] = o.client_order_id
    return body


def position(ticker: str, p: Position, shard: int = 0) -> dict[str, Any]:
    return {"ticker": ticker, "exchange_index": shard, "total_traded_dollars": dollars(p.total_traded, 6),
            "position_fp": count(p.count),
            "market_exposure_dollars": dollars(p.cost, 6), "realized_pnl_dollars": dollars(p.realized_pnl, 6),
            "fees_paid_dollars": dollars(p.fees_paid, 6), "last_updated_ts": iso(p.updated_ms)}


def ws_position(account: Account, ticker: str) -> dict[str, Any]:
    p = account.position(ticker)
    return {"user_id": account.name, "market_ticker": ticker, "position_fp": count(p.count),
            "position_cost_dollars": dollars(p.cost, 6), "realized_pnl_dollars": dollars(p.realized_pnl, 6),
            "fees_paid_dollars": dollars(p.fees_paid, 6), "position_fee_cost_dollars": dollars(0, 6),
            "volume_fp": count(abs(p.count))}


def event_position(event_ticker: str, held: list[Position]) -> dict[str, Any]:
    cost = sum(p.cost for p in held)
    return {"event_ticker": event_ticker, "total_cost_dollars": dollars(cost, 6),
            "total_cost_shares_fp": count(sum(abs(p.count) for p in held)),
            "event_exposure_dollars": dollars(cost, 6),
            "realized_pnl_dollars": dollars(sum(p.realized_pnl for p in held), 6),
            "fees_paid_dollars": dollars(sum(p.fees_paid for p in held), 6)}


def settlement(s: Settlement) -> dict[str, Any]:
    return {"ticker": s.ticker, "exchange_index": s.shard, "event_ticker": s.event_ticker, "market_result": s.result,
            "yes_count_fp": count(s.yes_count), "yes_total_cost_dollars": dollars(s.yes_cost, 6),
            "no_count_fp": count(s.no_count), "no_total_cost_dollars": dollars(s.no_cost, 6),
            "revenue": s.revenue_cents, "settled_time": iso(s.at_ms), "fee_cost": dollars(s.fee, 6),
            "value": s.value}


def event(event_ticker: str, series: str, title: str, override: FeeSchedule | None = None,
          shard: int = 0) -> dict[str, Any]:
    """EventData; its fee override in force now, when it has one (omitted otherwise, as Kalshi omits it)."""
    body: dict[str, Any] = {"event_ticker": event_ticker, "series_ticker": series, "sub_title": title, "title": title,
                            "collateral_return_type": "", "mutually_exclusive": True,
                            "settlement_sources": [{"name": "The simulator", "url": "http://127.0.0.1/"}],
                            "exchange_index": shard}
    if override is not None:
        body["fee_type_override"] = override.fee_type
        body["fee_multiplier_override"] = float(override.multiplier)
    return body


def event_fee_change(change: EventFeeChange) -> dict[str, Any]:
    """EventFeeChange: both overrides null when the change clears the event's override."""
    override = change.override
    return {"id": change.change_id, "event_ticker": change.event_ticker, "series_ticker": change.series_ticker,
            "fee_type_override": None if override is None else override.fee_type,
            "fee_multiplier_override": None if override is None else float(override.multiplier),
            "scheduled_ts": iso(change.at_ms)}


def event_override(fees: EventFees | object, now_ms: int) -> FeeSchedule | None:
    return fees.override_at(now_ms) if isinstance(fees, EventFees) else None


def fee_change(change: FeeChange) -> dict[str, Any]:
    return {"id": change.change_id, "series_ticker": change.series_ticker, "fee_type": change.schedule.fee_type,
            "fee_multiplier": float(change.schedule.multiplier), "scheduled_ts": iso(change.at_ms)}


def series(ticker: str, fee_type: str, multiplier: float, categories: list[str] | None = None) -> dict[str, Any]:
    return {"ticker": ticker, "frequency": "one_off", "title": f"Simulated series {ticker}", "category": "Simulated",
            "categories": categories or ["Simulated"], "tags": [], "settlement_sources": [], "contract_url": "",
            "contract_terms_url": "", "fee_type": fee_type, "fee_multiplier": multiplier,
            "additional_prohibitions": []}


def public_trade(t: PublicTrade) -> dict[str, Any]:
    outcome = "yes" if t.taker_bid else "no"
    return {"trade_id": t.trade_id, "ticker": t.ticker, "count_fp": count(t.count),
            "yes_price_dollars": dollars(t.price), "no_price_dollars": dollars(MICRO - t.price),
            "taker_side": outcome, "taker_outcome_side": outcome, "taker_book_side": "bid" if t.taker_bid else "ask",
            "is_block_trade": False, "created_time": iso(t.created_ms)}


def placed(o: Order, fills: list[Fill], now_ms: int, *, batch: bool = False) -> dict[str, Any]:
    """CreateOrderV2Response (and AmendOrderV2Response): the order's counts after the request, and
    the average price and fee a contract of what it filled at once. An item of a batch's answer
    writes the averages as null when nothing filled (its schema says they are never omitted)."""
    body: dict[str, Any] = {"order_id": o.order_id, "client_order_id": o.client_order_id,
                            "fill_count": count(sum(f.count for f in fills)), "remaining_count": count(o.remaining),
                            "ts_ms": now_ms}
    filled = sum(f.count for f in fills)
    if filled:
        body["average_fill_price"] = dollars(sum(f.count * f.price for f in fills) // filled, 6)
        body["average_fee_paid"] = dollars(sum(f.fee for f in fills) * MICRO // filled, 6)
    elif batch:
        body["average_fill_price"] = body["average_fee_paid"] = None
    return body


def error_body(exc: Any) -> dict[str, Any]:
    """A refusal in Kalshi's ErrorResponse (code, message, details when there are any)."""
    body = {"code": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = exc.details
    return body


def batch_refused(exc: Any, client_order_id: str | None) -> dict[str, Any]:
    """A batch's item Kalshi refused: its error, no order id, its counts and time null."""
    return {"client_order_id": client_order_id, "fill_count": None, "remaining_count": None,
            "average_fill_price": None, "average_fee_paid": None, "ts_ms": None, "error": error_body(exc)}


def candlesticks(m: Market, period_s: int, start_s: int, end_s: int) -> list[dict[str, Any]]:
    """Candles of the market's public trades (price only: the simulator keeps no history of quotes)."""
    out = []
    first = (start_s // period_s + 1) * period_s
    for end in range(first, end_s + period_s, period_s):
        inside = [(at, p, c) for at, p, c, _ in m.history if end - period_s <= at // 1000 < end]
        prices = [p for _, p, _ in inside]
        blank = {k: dollars(0) for k in ("open_dollars", "low_dollars", "high_dollars", "close_dollars")}
        out.append({"end_period_ts": end, "yes_bid": blank, "yes_ask": blank, "volume_fp": count(sum(
            c for _, _, c in inside)), "open_interest_fp": count(0), "price": {
            "open_dollars": dollars(prices[0]) if prices else None, "low_dollars": dollars(min(prices)) if prices
            else None, "high_dollars": dollars(max(prices)) if prices else None,
            "close_dollars": dollars(prices[-1]) if prices else None}})
    return out
