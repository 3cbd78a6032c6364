"""Stateless checks of a posted V2 order, turning the wire JSON into an ``Order``.

Order of checks and error texts follow the venue's error catalogue
(docs.polymarket.com/resources/error-codes) and reported production messages.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from .auth import ApiCreds
from .exchange import Exchange, OrderRejected
from .orders import BUY, Order
from .signing import OrderFormatError, order_signer
from .units import ONE, amount_decimals, decimals, fmt

ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")
INVALID_PAYLOAD = "Invalid order payload"
EOA_MAKER_ERROR = "maker address not allowed, please use the deposit wallet flow"
MARKET_PRICE_TOLERANCE = 100  # micro: market-order prices are maker/taker ratios, not exact ticks


def parse_order(item: Any, creds: ApiCreds, exchange: Exchange, gtd_buffer_s: float,
                allow_eoa_makers: bool = False, gtd_min_lead_s: float = 0.0) -> Order:
    """Validate one ``{"order", "owner", "orderType", "postOnly"}`` item; raises OrderRejected.

    Signature type 0 (a plain EOA maker) is refused, as the venue refuses it for new
    accounts, unless ``allow_eoa_makers``.
    """
    if not isinstance(item, dict) or not isinstance(item.get("order"), dict):
        raise OrderRejected(INVALID_PAYLOAD)
    wire = item["order"]
    order_type = item.get("orderType", "GTC")
    post_only = item.get("postOnly", False)
    if order_type not in ORDER_TYPES or not isinstance(post_only, bool):
        raise OrderRejected(INVALID_PAYLOAD)
    if item.get("owner") != creds.api_key:
        raise OrderRejected("the order owner has to be the owner of the API KEY")
    market = exchange.market_for_token(str(wire.get("tokenId", "")))
    if market is None:
        raise OrderRejected(INVALID_PAYLOAD)
    try:
        order_id, recovered = order_signer(wire, market.neg_risk, market.protocol_v2)
    except OrderFormatError:
        raise OrderRejected(INVALID_PAYLOAD) from None
    _check_signer(wire, creds, recovered)
    if wire["signatureType"] == 0 and not allow_eoa_makers:
        raise OrderRejected(EOA_MAKER_ERROR)
    if post_only and order_type in ("FOK", "FAK"):
        raise OrderRejected("invalid post-only order: only GTC and GTD order types are allowed")
    maker_amt, taker_amt = int(wire["makerAmount"]), int(wire["takerAmount"])
    if maker_amt <= 0 or taker_amt <= 0:
        raise OrderRejected(INVALID_PAYLOAD)
    side = wire["side"]
    shares, cash = (taker_amt, maker_amt) if side == BUY else (maker_amt, taker_amt)
    market_order = order_type in ("FOK", "FAK")
    _check_decimals(side, maker_amt, taker_amt, market.tick, market_order)
    price = _limit_price(order_id, shares, cash, market.tick, market_order)
    if not market_order and shares < market.min_size:
        raise OrderRejected(f"order {order_id} is invalid. Size ({fmt(shares)}) lower than the minimum: "
                            f"{fmt(market.min_size)}")
    expiration = _expiration(wire, order_type, gtd_buffer_s, gtd_min_lead_s)
    return Order(
        id=order_id, market=market, token=market.token(str(wire["tokenId"])), side=side,
        price=price, size=shares, order_type=order_type, owner=creds.api_key,
        maker_address=wire["maker"], created_at=int(time.time()), expiration=expiration,
        post_only=post_only, budget=cash if (market_order and side == BUY) else None,
    )


def _check_signer(wire: dict[str, Any], creds: ApiCreds, recovered: str | None) -> None:
    signer, maker = wire["signer"].lower(), wire["maker"].lower()
    if wire["signatureType"] == 3:
        # Deposit wallet: maker = signer = wallet; the inner ECDSA signer owns the key.
        if maker != signer or recovered != creds.address:
            raise OrderRejected("invalid signature")
        return
    if signer != creds.address:
        raise OrderRejected("the order signer address has to be the address of the API KEY")
    if recovered != signer or (wire["signatureType"] == 0 and maker != signer):
        raise OrderRejected("invalid signature")


def _check_decimals(side: str, maker_amt: int, taker_amt: int, tick: int, market_order: bool) -> None:
    """Shares carry 2 decimals; the pUSD leg tick+2 (limit) or 4 (market orders)."""
    if market_order:
        if decimals(maker_amt) > 2 or decimals(taker_amt) > 4:
            kind = "buy" if side == BUY else "sell"
            raise OrderRejected(f"invalid amounts, the market {kind} orders maker amount supports a max "
                                "accuracy of 2 decimals, taker amount a max of 4 decimals")
        return
    cash_dp = amount_decimals(tick)
    if side == BUY and (decimals(maker_amt) > cash_dp or decimals(taker_amt) > 2):
        raise OrderRejected(f"invalid amounts, the buy orders maker amount supports a max accuracy of "
                            f"{cash_dp} decimals, taker amount a max of 2 decimals")
    if side != BUY and (decimals(maker_amt) > 2 or decimals(taker_amt) > cash_dp):
        raise OrderRejected(f"invalid amounts, the sell orders maker amount supports a max accuracy of "
                            f"2 decimals, taker amount a max of {cash_dp} decimals")


def _limit_price(order_id: str, shares: int, cash: int, tick: int, market_order: bool) -> int:
    """The order's price in micro-units; limit orders must sit exactly on the tick grid."""
    # Nearest tick in integer arithmetic (round half up), never via float division.
    snapped = (2 * cash * ONE + shares * tick) // (2 * shares * tick) * tick
    if market_order:
        on_grid = abs(cash * ONE - snapped * shares) <= MARKET_PRICE_TOLERANCE * shares
    else:
        on_grid = cash * ONE == snapped * shares
    if not on_grid or not tick <= snapped <= ONE - tick:
        implied = (Decimal(cash) / Decimal(shares)).normalize()
        raise OrderRejected(f"order {order_id} is invalid. Price ({implied:f}) breaks minimum tick "
                            f"size rule: {fmt(tick)}")
    return snapped


def _expiration(wire: dict[str, Any], order_type: str, gtd_buffer_s: float, min_lead_s: float) -> int:
    """A GTD's expiration (unix seconds, as signed) must be later than now + `gtd_buffer_s` (the
    venue takes it off the book that early) and at least now + `min_lead_s` (the venue's clients
    refuse a sooner one: `expiration < int(now) + 180`)."""
    try:
        expiration = int(str(wire.get("expiration", "0") or "0"))
    except ValueError:
        raise OrderRejected(INVALID_PAYLOAD) from None
    if order_type != "GTD":
        return 0
    now = time.time()
    if expiration <= now + gtd_buffer_s or expiration < int(now) + min_lead_s:
        raise OrderRejected("invalid expiration")
    return expiration
