"""Kalshi's markets in the desk's terms: ids, units and fees, shared by the feeds, the venue and
the cross-venue arithmetic (contracts/cross_venue.py).

A Kalshi market (its ticker) is the desk's market `kalshi:<ticker>`, with two tokens,
`kalshi:<ticker>:yes` and `kalshi:<ticker>:no`, so nothing of Kalshi's can be mistaken for a
Polymarket id. Kalshi prices whole cents (1-99) and whole contracts; the desk counts micro-units
(1,000,000 = one dollar, one share): a cent is 10,000.
"""

from __future__ import annotations

from contracts.domain import Tif

PREFIX = "kalshi:"
CENT = 10_000  # micro-units a cent
CONTRACT = 1_000_000  # micro-units a contract


# Kalshi's fee schedule: a taker pays ceil(0.07 x C x P x (1 - P)) rounded up to the cent, a maker
# ceil(0.0175 x ...) on the markets that charge makers (P in dollars, C contracts).
TAKER_RATE, MAKER_RATE = (7, 100), (7, 400)


def fee_cents(rate: tuple[int, int], count: int, yes_cents: int) -> int:
    numerator, denominator = rate
    return -(-(numerator * count * yes_cents * (100 - yes_cents)) // (denominator * 100))


class NotKalshi(ValueError):
    """An id, price or size Kalshi cannot take; the message says which and why."""


# What the desk sends Kalshi: limit orders resting until cancelled, filled whole or not at all, or
# filled as far as the book allows at once (Kalshi has no expiry the desk uses).
KALSHI_TIFS = frozenset({Tif.GTC, Tif.FOK, Tif.FAK})


def order_problem(price: int, size: int, tif: Tif) -> str | None:
    """Why Kalshi cannot take an order of these terms (None: it can): whole cents from 1 to 99,
    whole contracts, one of the time-in-force values it has."""
    if price % CENT or not CENT <= price <= 99 * CENT:
        return f"price {price / 1e6:g} is not a whole cent from 0.01 to 0.99"
    if size % CONTRACT or size < CONTRACT:
        return f"size {size / 1e6:g} is not a whole number of contracts"
    if tif not in KALSHI_TIFS:
        return f"{tif.value} orders are not sent to Kalshi by the desk (GTC, FOK or FAK)"
    return None


def fill_fee(price: int, size: int, *, taker: bool, maker_charged: bool) -> int:
    """Kalshi's fee on one fill of `size` (micro-contracts) at `price` (micro-dollars; either
    side's price, the fee is symmetric), in micro-dollars: whole cents, rounded up."""
    if not taker and not maker_charged:
        return 0
    return fee_cents(TAKER_RATE if taker else MAKER_RATE, size // CONTRACT, price // CENT) * CENT


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
