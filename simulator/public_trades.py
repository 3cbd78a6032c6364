"""The public trade tape the Data API serves (``GET /data-api/trades``): every trade on the
exchange, agents' included, newest last, bounded (TAPE_TRADES), one row per order filled.

As data-api.polymarket.com's v1 ``/trades`` documents it: ``user`` (a wallet: its proxy wallet)
and ``market`` (condition ids, comma-separated) filter; ``takerOnly`` defaults to true (each
trade once, on its taker's side; false adds a row per maker order filled); ``side`` BUY or SELL;
``limit`` 1 to 10,000 (default 100) and ``offset`` 0 to 10,000, newest first. A row: ``asset``,
``conditionId``, ``side``, ``price`` (what that order paid per share of its token), ``size``,
``timestamp`` (seconds), ``transactionHash``, ``proxyWallet``, ``title``, ``slug``, ``outcome``,
``outcomeIndex`` (the shape of the captured ``data_api_trades_response.json``, plus the outcome).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from .trades import Trade
from .units import ONE, as_float

if TYPE_CHECKING:
    from .markets import Token

TAPE_TRADES = 50_000
MAX_LIMIT = MAX_OFFSET = 10_000


class PublicTape:
    def __init__(self, size: int = TAPE_TRADES) -> None:
        self.trades: deque[Trade] = deque(maxlen=size)

    def add(self, trade: Trade) -> None:
        self.trades.append(trade)

    def rows(self, *, user: str | None, markets: set[str] | None, taker_only: bool,
             side: str | None) -> list[dict[str, Any]]:
        """Every matching row, newest first."""
        found = []
        for trade in reversed(self.trades):
            if markets is not None and trade.market.condition_id not in markets:
                continue
            for row in trade_rows(trade, taker_only):
                if (user is None or row["proxyWallet"].lower() == user) and (side is None or row["side"] == side):
                    found.append(row)
        return found


Leg = tuple[str, "Token", str, int, int]  # (wallet, token, side, price in that token, size)


def taker_leg(trade: Trade) -> Leg:
    """The taker's side of the trade: what it paid per share of its token, for the whole trade."""
    taker = trade.taker
    return taker.maker_address.lower(), taker.token, taker.side, _taker_price(trade), trade.size


def maker_legs(trade: Trade) -> list[Leg]:
    """Each maker order's side of the trade, at its own price."""
    return [(leg.order.maker_address.lower(), leg.order.token, leg.order.side, leg.price, leg.size)
            for leg in trade.makers]


def trade_rows(trade: Trade, taker_only: bool) -> list[dict[str, Any]]:
    """The trade's rows: its taker's, and with `taker_only` False each maker order's (rtds.py's too)."""
    legs = [taker_leg(trade)] + ([] if taker_only else maker_legs(trade))
    return [_row(trade, token, side, price, size, wallet) for wallet, token, side, price, size in legs]


def _taker_price(trade: Trade) -> int:
    """What the taker paid per share of its token: its makers' prices, each in the taker's token
    (a maker on the other token, in a mint or a merge, traded at one minus its price), by size."""
    taker = trade.taker
    total = sum(leg.size for leg in trade.makers)
    if total <= 0:
        return taker.price
    paid = sum((leg.price if leg.order.token is taker.token else ONE - leg.price) * leg.size for leg in trade.makers)
    return paid // total


def _row(trade: Trade, token: Any, side: str, price: int, size: int, wallet: str) -> dict[str, Any]:
    market = trade.market
    return {"asset": token.token_id, "conditionId": market.condition_id, "side": side, "price": as_float(price),
            "size": as_float(size), "timestamp": trade.match_time, "transactionHash": trade.tx_hash,
            "proxyWallet": wallet.lower(), "title": market.question, "slug": market.slug,
            "outcome": token.outcome, "outcomeIndex": 0 if token.is_yes else 1}
