"""Market-data payloads (REST book summary and market-channel messages) and the
sink through which the exchange publishes them.

Shapes follow the captured fixtures in tests/fixtures/polymarket/ws.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from .book import Book, levels_json, summary_hash
from .markets import Market, Token
from .units import ONE, fmt

JSON = dict[str, Any]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class EventSink(Protocol):
    """Where the exchange sends events (the WebSocket hub in production)."""

    def market(self, market: Market, message: JSON) -> None: ...

    def watching(self, market: Market) -> bool:
        """Anyone subscribed to this market's tokens? (lets the exchange skip work)"""
        ...

    def user(self, owner: str, market: Market, message: JSON) -> None: ...


class NullSink:
    def market(self, market: Market, message: JSON) -> None:
        return None

    def watching(self, market: Market) -> bool:
        return False

    def user(self, owner: str, market: Market, message: JSON) -> None:
        return None


def last_trade_price(market: Market, token: Token) -> int:
    yes = market.last_trade_price if market.last_trade_price is not None else ONE // 2
    return yes if token.is_yes else ONE - yes


def book_summary(market: Market, token: Token, book: Book, ts_ms: int) -> JSON:
    """REST ``/book`` body: all 10 keys, bids ascending and asks descending (best last)."""
    bids, asks = book.token_levels(token.is_yes)
    summary: JSON = {
        "market": market.condition_id,
        "asset_id": token.token_id,
        "timestamp": str(ts_ms),
        "hash": "",
        "bids": levels_json(bids),
        "asks": levels_json(asks),
        "min_order_size": fmt(market.min_size),
        "tick_size": fmt(market.tick),
        "neg_risk": market.neg_risk,
        "last_trade_price": fmt(last_trade_price(market, token)),
    }
    summary["hash"] = summary_hash(summary)
    return summary


def book_message(market: Market, token: Token, book: Book, ts_ms: int) -> JSON:
    """Market-channel ``book`` snapshot (same levels and hash as the REST summary)."""
    summary = book_summary(market, token, book, ts_ms)
    return {
        "event_type": "book",
        "asset_id": token.token_id,
        "market": market.condition_id,
        "bids": summary["bids"],
        "asks": summary["asks"],
        "timestamp": summary["timestamp"],
        "hash": summary["hash"],
    }


def price_change_message(market: Market, book: Book, changes: list[tuple[str, int]], ts_ms: int) -> JSON:
    """One ``price_change`` covering both tokens for canonical level changes.

    ``changes`` holds (canonical side "bid"/"ask", YES price); each becomes a BUY/SELL
    entry in the YES book and the mirrored entry in the NO book. ``size`` is the new
    level total ("0" removes the level).
    """
    entries = []
    hashes: dict[str, str] = {}
    bests = {t.token_id: book.token_best(t.is_yes) for t in market.tokens}
    for token in market.tokens:
        hashes[token.token_id] = book_summary(market, token, book, ts_ms)["hash"]
    for yes_side, price in changes:
        size = fmt(book.level_total(yes_side, price))
        for token in market.tokens:
            is_bid = (yes_side == "bid") == token.is_yes
            best_bid, best_ask = bests[token.token_id]
            entries.append({
                "asset_id": token.token_id,
                "price": fmt(price if token.is_yes else ONE - price),
                "side": "BUY" if is_bid else "SELL",
                "size": size,
                "hash": hashes[token.token_id],
                "best_bid": fmt(best_bid) if best_bid is not None else "0",
                "best_ask": fmt(best_ask) if best_ask is not None else "1",
            })
    return {
        "market": market.condition_id,
        "price_changes": entries,
        "event_type": "price_change",
        "timestamp": str(ts_ms),
    }


def last_trade_message(market: Market, token: Token, price: int, side: str, size: int, ts_ms: int) -> JSON:
    return {
        "asset_id": token.token_id,
        "event_type": "last_trade_price",
        "fee_rate_bps": "0",
        "market": market.condition_id,
        "price": fmt(price),
        "side": side,
        "size": fmt(size),
        "timestamp": str(ts_ms),
    }


def tick_size_message(market: Market, token: Token, old: int, new: int, ts_ms: int,
                      old_shown: str | None = None) -> JSON:
    """``old_shown`` replaces the old tick on the wire (the venue sometimes sends "")."""
    return {
        "asset_id": token.token_id,
        "event_type": "tick_size_change",
        "market": market.condition_id,
        "new_tick_size": fmt(new),
        "old_tick_size": fmt(old) if old_shown is None else old_shown,
        "timestamp": str(ts_ms),
    }


def market_resolved_message(market: Market, ts_ms: int) -> JSON:
    """Only sent to subscribers with ``custom_feature_enabled`` (as on the venue). A split
    resolution (0.5/0.5) has no winning asset: both are sent empty, so a client must read the
    payouts from Gamma or the CLOB market (how the venue words it is not captured; this is
    the stricter reading)."""
    winner = next((t for t in market.tokens if t.token_id == market.winner), None)
    return {
        "event_type": "market_resolved",
        "id": market.gamma_id,
        "market": market.condition_id,
        "assets_ids": [t.token_id for t in market.tokens],
        "winning_asset_id": winner.token_id if winner else "",
        "winning_outcome": winner.outcome if winner else "",
        "timestamp": str(ts_ms),
        "tags": market.tags[:3],
    }
