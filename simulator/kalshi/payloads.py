"""The JSON Kalshi answers with: every field its official SDK requires, cents as integers beside
dollars as fixed-point strings (exactly four decimals), times in ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .exchange import Book, Market, PublicTrade
from .orders import CONTRACT, Fill, Order, Position, Settlement

SETTLEMENT_TIMER_S = 3600


def dollars(cents: int) -> str:
    return f"{cents / 100:.4f}"


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def market(m: Market, book: Book) -> dict[str, Any]:
    yes, no = book.levels()
    yes_bid = max(yes, default=0)
    no_bid = max(no, default=0)
    yes_ask = CONTRACT - no_bid if no_bid else CONTRACT
    no_ask = CONTRACT - yes_bid if yes_bid else CONTRACT
    liquidity = sum(p * q for p, q in yes.items()) + sum(p * q for p, q in no.items())
    settled = m.status == "settled" and m.result != ""  # a voided market settles with no result and no value
    return {
        "ticker": m.ticker, "event_ticker": m.event_ticker, "market_type": m.market_type, "title": m.title,
        "subtitle": m.subtitle, "yes_sub_title": m.subtitle, "no_sub_title": m.subtitle,
        "created_time": iso(m.open_ms), "open_time": iso(m.open_ms), "close_time": iso(m.close_ms),
        "expected_expiration_time": iso(m.close_ms), "expiration_time": iso(m.close_ms),
        "latest_expiration_time": iso(m.close_ms + 7 * 86_400_000),
        "settlement_timer_seconds": SETTLEMENT_TIMER_S, "status": m.status, "response_price_units": "usd_cent",
        "yes_bid": yes_bid, "yes_bid_dollars": dollars(yes_bid),
        "yes_ask": yes_ask, "yes_ask_dollars": dollars(yes_ask),
        "no_bid": no_bid, "no_bid_dollars": dollars(no_bid), "no_ask": no_ask, "no_ask_dollars": dollars(no_ask),
        "last_price": m.last_price, "last_price_dollars": dollars(m.last_price), "volume": m.volume,
        "volume_24h": m.volume, "result": m.result, "can_close_early": True, "open_interest": 0,
        "notional_value": CONTRACT, "notional_value_dollars": dollars(CONTRACT),
        "previous_yes_bid": 0, "previous_yes_bid_dollars": dollars(0), "previous_yes_ask": 0,
        "previous_yes_ask_dollars": dollars(0), "previous_price": 0, "previous_price_dollars": dollars(0),
        "liquidity": liquidity, "liquidity_dollars": dollars(liquidity),
        "settlement_value": (CONTRACT if m.result == "yes" else 0) if settled else None,
        "settlement_value_dollars": dollars(CONTRACT if m.result == "yes" else 0) if settled else None,
        "expiration_value": m.result, "category": "Simulated", "risk_limit_cents": 0,
        "tick_size": 1, "rules_primary": m.rules_primary, "rules_secondary": m.rules_secondary,
        "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0100", "end": "0.9900", "step": "0.0100"}],
    }


def orderbook(book: Book, depth: int) -> dict[str, Any]:
    """Both sides' bids, each in ascending price (the best last), `depth` best levels each (0: all)."""
    yes, no = book.levels()

    def side(levels: dict[int, int]) -> list[tuple[int, int]]:
        best = sorted(levels.items())
        return best[-depth:] if depth else best

    y, n = side(yes), side(no)
    return {"yes": [[p, q] for p, q in y], "no": [[p, q] for p, q in n],
            "yes_dollars": [[dollars(p), str(q)] for p, q in y], "no_dollars": [[dollars(p), str(q)] for p, q in n]}


def order(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id, "user_id": o.account, "client_order_id": o.client_order_id, "ticker": o.ticker,
        "side": o.side, "action": o.action, "type": o.type, "status": o.status,
        "yes_price": o.yes_price, "no_price": CONTRACT - o.yes_price,
        "yes_price_dollars": dollars(o.yes_price), "no_price_dollars": dollars(CONTRACT - o.yes_price),
        "fill_count": o.fill_count, "remaining_count": o.remaining, "initial_count": o.initial_count,
        "taker_fees": o.taker_fees, "maker_fees": o.maker_fees, "taker_fill_cost": o.taker_fill_cost,
        "maker_fill_cost": o.maker_fill_cost, "taker_fill_cost_dollars": dollars(o.taker_fill_cost),
        "maker_fill_cost_dollars": dollars(o.maker_fill_cost), "queue_position": 0,
        "taker_fees_dollars": dollars(o.taker_fees), "maker_fees_dollars": dollars(o.maker_fees),
        "created_time": iso(o.created_ms), "last_update_time": iso(o.updated_ms),
        "self_trade_prevention_type": o.stp,
    }


def fill(f: Fill) -> dict[str, Any]:
    o = f.order
    return {
        "fill_id": f.fill_id, "trade_id": f.trade_id, "order_id": o.order_id, "client_order_id": o.client_order_id,
        "ticker": o.ticker, "market_ticker": o.ticker, "side": o.side, "action": o.action, "count": f.count,
        "price": o.own_price(f.yes_price) / 100, "yes_price": f.yes_price, "no_price": CONTRACT - f.yes_price,
        "yes_price_fixed": dollars(f.yes_price), "no_price_fixed": dollars(CONTRACT - f.yes_price),
        "is_taker": f.is_taker, "created_time": iso(f.at_ms), "ts": f.at_ms // 1000,
    }


def position(ticker: str, p: Position, resting: int) -> dict[str, Any]:
    return {
        "ticker": ticker, "total_traded": p.total_traded, "total_traded_dollars": dollars(p.total_traded),
        "position": p.count, "market_exposure": p.cost, "market_exposure_dollars": dollars(p.cost),
        "realized_pnl": p.realized_pnl, "realized_pnl_dollars": dollars(p.realized_pnl),
        "resting_orders_count": resting, "fees_paid": p.fees_paid, "fees_paid_dollars": dollars(p.fees_paid),
        "last_updated_ts": iso(p.updated_ms) if p.updated_ms else None,
    }


def event_position(event_ticker: str, held: list[Position]) -> dict[str, Any]:
    cost = sum(p.cost for p in held)
    pnl = sum(p.realized_pnl for p in held)
    fees = sum(p.fees_paid for p in held)
    return {"event_ticker": event_ticker, "total_cost": cost, "total_cost_dollars": dollars(cost),
            "total_cost_shares": sum(abs(p.count) for p in held), "event_exposure": cost,
            "event_exposure_dollars": dollars(cost), "realized_pnl": pnl, "realized_pnl_dollars": dollars(pnl),
            "fees_paid": fees, "fees_paid_dollars": dollars(fees)}


def settlement(s: Settlement) -> dict[str, Any]:
    return {"ticker": s.ticker, "event_ticker": s.event_ticker, "market_result": s.result,
            "yes_count": s.yes_count, "yes_total_cost": s.yes_cost, "no_count": s.no_count,
            "no_total_cost": s.no_cost, "revenue": s.revenue, "settled_time": iso(s.at_ms),
            "fee_cost": dollars(0),
            "value": None if s.result == "void" else CONTRACT if s.result == "yes" else 0}


def event(event_ticker: str, title: str) -> dict[str, Any]:
    return {"event_ticker": event_ticker, "series_ticker": event_ticker.split("-")[0], "sub_title": title,
            "title": title, "collateral_return_type": "", "mutually_exclusive": True, "category": "Simulated",
            "available_on_brokers": False, "product_metadata": None}


def public_trade(t: PublicTrade) -> dict[str, Any]:
    return {"trade_id": t.trade_id, "ticker": t.ticker, "count": t.count, "count_fp": f"{t.count:.2f}",
            "price": t.yes_price / 100, "yes_price": t.yes_price, "no_price": CONTRACT - t.yes_price,
            "yes_price_dollars": dollars(t.yes_price), "no_price_dollars": dollars(CONTRACT - t.yes_price),
            "taker_side": t.taker_side, "created_time": iso(t.created_ms)}
