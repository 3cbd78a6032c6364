"""Kalshi's markets in the desk's terms: ids, units and order terms, shared by the feeds, the venue
and the cross-venue arithmetic (contracts/cross_venue.py). Fees are in contracts/venues/kalshi/fees.py, a
market's price grid in contracts/venues/kalshi/grid.py.

A Kalshi market (its ticker) is the desk's market `kalshi:<ticker>`, with two tokens,
`kalshi:<ticker>:yes` and `kalshi:<ticker>:no`, so nothing of Kalshi's can be mistaken for a
Polymarket id. Since 2026 Kalshi prices on each market's grid (sub-penny ticks on many) and counts
contracts to 0.01 (fractional trading on every market): both fit the desk's micro-units exactly
(1,000,000 = one dollar, one contract), so nothing is rounded to cents.
"""

from __future__ import annotations

from contracts.domain import Tif

PREFIX = "kalshi:"
CENT = 10_000  # micro-units a cent (whole cents are valid on every Kalshi grid)
CONTRACT = 1_000_000  # micro-units a contract
LOT = 10_000  # 0.01 contract: Kalshi's smallest count


class NotKalshi(ValueError):
    """An id, price or size Kalshi cannot take; the message says which and why."""


# What the desk sends Kalshi: limit orders resting until cancelled, filled whole or not at all, or
# filled as far as the book allows at once (Kalshi has no market order: one is an IOC at a price).
KALSHI_TIFS = frozenset({Tif.GTC, Tif.FOK, Tif.FAK})


def size_problem(size: int) -> str | None:
    if size < LOT or size % LOT:
        return f"size {size / 1e6:g} is not a positive number of contracts in steps of 0.01"
    return None


def tif_problem(tif: Tif) -> str | None:
    if tif not in KALSHI_TIFS:
        return f"{tif.value} orders are not sent to Kalshi by the desk (GTC, FOK or FAK)"
    return None


def market_id(ticker: str) -> str:
    return f"{PREFIX}{ticker}"


def ticker_of(market: str) -> str:
    """The Kalshi ticker of the desk's market `kalshi:<ticker>`."""
    return market.removeprefix(PREFIX)


def settlement_ref(ticker: str) -> str:
    """How the ledger names what Kalshi paid when it settled (or voided) a market."""
    return f"kalshi-settlement:{ticker}"


def token_id(ticker: str, side: str) -> str:
    return f"{PREFIX}{ticker}:{side}"


def split_token(token: str) -> tuple[str, str]:
    """(ticker, yes | no) of a desk token id of Kalshi's."""
    ticker, _, side = token.removeprefix(PREFIX).rpartition(":")
    if not token.startswith(PREFIX) or not ticker or side not in ("yes", "no"):
        raise NotKalshi(f"{token!r} is not a Kalshi token (kalshi:<ticker>:yes or :no)")
    return ticker, side
