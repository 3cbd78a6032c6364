"""Kalshi's markets in the desk's terms: ids and units, shared by the feeds and the venue.

A Kalshi market (its ticker) is the desk's market `kalshi:<ticker>`, with two tokens,
`kalshi:<ticker>:yes` and `kalshi:<ticker>:no`, so nothing of Kalshi's can be mistaken for a
Polymarket id. Kalshi prices whole cents (1-99) and whole contracts; the desk counts micro-units
(1,000,000 = one dollar, one share): a cent is 10,000.
"""

from __future__ import annotations

PREFIX = "kalshi:"
CENT = 10_000  # micro-units a cent
CONTRACT = 1_000_000  # micro-units a contract


class NotKalshi(ValueError):
    """An id, price or size Kalshi cannot take; the message says which and why."""


def market_id(ticker: str) -> str:
    return f"{PREFIX}{ticker}"


def token_id(ticker: str, side: str) -> str:
    return f"{PREFIX}{ticker}:{side}"


def split_token(token: str) -> tuple[str, str]:
    """(ticker, yes | no) of a desk token id of Kalshi's."""
    ticker, _, side = token.removeprefix(PREFIX).rpartition(":")
    if not token.startswith(PREFIX) or not ticker or side not in ("yes", "no"):
        raise NotKalshi(f"{token!r} is not a Kalshi token (kalshi:<ticker>:yes or :no)")
    return ticker, side
