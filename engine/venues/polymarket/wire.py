"""Pure parsers for the CLOB's trading payloads: order responses, cancel results, open
orders, trades and user-channel events, into the Venue protocol's types.

A trade is the taker's match against one or more makers; it names the taker's side, price
and size at the top level and each maker in `maker_orders[]`. A fill is reported with OUR
order's terms: when we were the taker (`trader_side` TAKER), one fill per maker leg at that
leg's price (a trade against several makers is booked as fills `<trade id>/<maker order id>`,
so the ledger's cash is the venue's to the micro-unit); for each of our makers, the matching
`maker_orders[]` entry (by API key or wallet address).

Fees: the trade's `fee_rate_bps` reads 0 even on fee-charging markets, so a taker fill's fee
is computed from the market's fee schedule (`fd.r`, `fd.e` of /clob-markets, in the
catalog) leg by leg, as the venue charges it; makers pay nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from contracts.domain import ONE, Side
from contracts.venue_rules import taker_fee
from engine.venues.base import (
    CancelResult,
    OrderEvent,
    OrderRejected,
    PlaceResult,
    TradeEvent,
    TradeStatus,
    VenueOrder,
    VenueOrderStatus,
    VenueTrade,
    normalize_trade_status,
    venue_status,
)
from engine.venues.polymarket.parse import micros, millis

log = logging.getLogger("engine.venues.polymarket.venue")

_UNKNOWN_STATUSES: set[str] = set()  # statuses already reported as unknown (bounded: at most MAX_UNKNOWN_SAID)
MAX_UNKNOWN_SAID = 1_000
CANCELLATION = "CANCELLATION"  # an order message's `type` when the venue ended the order
# An order message's `type`s: some captured payloads carry no `event_type`, only these.
ORDER_MESSAGES = frozenset({"PLACEMENT", "UPDATE", CANCELLATION})
# condition id -> (fee rate in ppm, fee exponent), or None when the market is unknown.
FeeSchedule = Callable[[str], tuple[int, int] | None]


def no_fee_schedule(condition_id: str) -> None:
    return None


@dataclass(frozen=True)
class Identity:
    """Who "we" are in trade payloads: our API key(s) and wallet addresses."""

    api_keys: frozenset[str]
    addresses: frozenset[str]  # lower-case

    @classmethod
    def of(cls, api_keys: Iterable[str], addresses: Iterable[str | None]) -> Identity:
        return cls(frozenset(api_keys), frozenset(a.lower() for a in addresses if a))

    def owns(self, owner: Any, address: Any) -> bool:
        return owner in self.api_keys or (isinstance(address, str) and address.lower() in self.addresses)


def balance_micros(raw: Any) -> int:
    """A ``/balance-allowance`` balance as the venue sends it: micro-units ("1000000000"), or a
    decimal ("250.500000", as in a captured answer without allowances)."""
    text = str(raw if raw is not None else "0").strip() or "0"
    if "." in text:
        whole, _, frac = text.partition(".")
        return int(whole or "0") * ONE + int((frac + "000000")[:6])
    return int(text)


def place_result(raw: Any, expected_id: str, side: Side | None = None) -> PlaceResult:
    """One POST /order(s) result; raises OrderRejected when the venue refused the order.

    As the venue's own clients read it, an order was accepted only with `success`, an empty
    `errorMsg` and a non-empty `orderID`: the venue can refuse inside an HTTP 200 (`success`
    true, the reason in `errorMsg`, no order id), and such an order never rests.
    With the order's `side`, `filled` is the shares the answer says matched at once (a BUY
    takes shares, a SELL makes them); a fill-and-kill is done with that answer."""
    if not isinstance(raw, dict):
        raise OrderRejected(f"unexpected order response: {raw!r}"[:300])
    error = raw.get("errorMsg") or raw.get("error")
    order_id = raw.get("orderID")
    if raw.get("success") is not True or error or not isinstance(order_id, str) or not order_id:
        reason = error if isinstance(error, str) and error else "the venue did not accept the order"
        raise OrderRejected(f"{reason} (success={raw.get('success')!r}, orderID={order_id!r})"[:500])
    if order_id.lower() != expected_id.lower():
        # Our digest is the order's identity everywhere; a mismatch is a signing bug.
        log.error("venue order id differs from the signed digest",
                  extra={"expected": expected_id, "venue": order_id})
    status, _ = order_status(raw.get("status") or "LIVE", order_id)
    return PlaceResult(venue_order_id=order_id, status=status, trade_ids=tuple(raw.get("tradeIDs") or ()),
                       filled=_matched_shares(raw, side, status))


def _matched_shares(raw: dict[str, Any], side: Side | None, status: Any) -> int | None:
    if side is None or status is not VenueOrderStatus.MATCHED:
        return None
    amount = raw.get("takingAmount" if side is Side.BUY else "makingAmount")
    try:
        return micros(amount) if amount not in (None, "") else None
    except ValueError:
        return None


def cancel_result(raw: Any) -> CancelResult:
    if not isinstance(raw, dict):
        return CancelResult()
    refused = raw.get("not_canceled") or {}
    return CancelResult(
        canceled=tuple(str(i) for i in raw.get("canceled") or ()),
        not_canceled={str(k): str(v) for k, v in refused.items()} if isinstance(refused, dict) else {},
    )


def merge_cancels(*results: CancelResult) -> CancelResult:
    canceled = list(dict.fromkeys(i for r in results for i in r.canceled))
    not_canceled = {k: v for r in results for k, v in r.not_canceled.items() if k not in canceled}
    return CancelResult(tuple(canceled), not_canceled)


def venue_order(raw: dict[str, Any]) -> VenueOrder:
    """A REST OpenOrder or a user-channel `order` event. A CANCELLATION message ends the order
    whatever its status says (the venue cancels with INVALID too): its status, when not plain
    CANCELED, is kept as the reason."""
    created = raw.get("created_at")
    order_id = str(raw["id"])
    if raw.get("type") == CANCELLATION:
        status, reason = _cancellation(str(raw["status"]))
    else:
        status, reason = order_status(raw["status"], order_id)
    return VenueOrder(
        venue_order_id=order_id,
        condition_id=str(raw.get("market", "")),
        token_id=str(raw.get("asset_id", "")),
        side=Side(str(raw["side"]).upper()),
        price=micros(raw["price"]),
        size=micros(raw.get("original_size") or "0"),
        filled=micros(raw.get("size_matched") or "0"),
        status=status,
        created_ms=millis(created) if created not in (None, "") else 0,
        reason=reason,
    )


def order_status(raw: Any, order_id: str) -> tuple[VenueOrderStatus, str | None]:
    """An order's status and reason (see `venue_status`). A status the venue adds later is taken
    as UNKNOWN, which leaves the order working as it was (the cautious reading: nothing is
    released or closed on a word we do not know), said once in the log, never a crash."""
    try:
        return venue_status(str(raw))
    except ValueError:
        _say_unknown("order", raw, order_id)
        return VenueOrderStatus.UNKNOWN, None


def _cancellation(text: str) -> tuple[VenueOrderStatus, str | None]:
    """A CANCELLATION message's status: CANCELED with the venue's reason, whatever word it used."""
    try:
        status, reason = venue_status(text)
    except ValueError:
        status, reason = VenueOrderStatus.UNKNOWN, None
    return VenueOrderStatus.CANCELED, reason if status is VenueOrderStatus.CANCELED else text[:200]


def _say_unknown(kind: str, raw: Any, ref: str) -> None:
    """Log a status the desk does not know, once per status (bounded)."""
    text = str(raw)[:60]
    if f"{kind}:{text}" in _UNKNOWN_STATUSES or len(_UNKNOWN_STATUSES) >= MAX_UNKNOWN_SAID:
        return
    _UNKNOWN_STATUSES.add(f"{kind}:{text}")
    treated = "the order is kept working as it was" if kind == "order" else "the fill is treated as pending"
    log.warning("unknown %s status from the venue: %s", kind, treated, extra={"status": text, "ref": ref})


def _maker_side(leg: dict[str, Any], taker_side: Side, taker_token: str) -> Side:
    """Older payloads omit a maker's side: against the same token it is the opposite of
    the taker's; against the complementary token (a mint or merge) it is the same."""
    side = leg.get("side")
    if side:
        return Side(str(side).upper())
    return taker_side.opposite if str(leg.get("asset_id", taker_token)) == taker_token else taker_side


def trade_status(raw: Any, trade_id: str) -> TradeStatus:
    """A trade's status in either spelling (REST's `TRADE_STATUS_MINED`, the user channel's
    `MINED`). A status the venue adds later is taken as still pending (the cautious reading:
    its shares are not sold and the cash sync waits), said once in the log, never a crash."""
    try:
        return normalize_trade_status(str(raw))
    except ValueError:
        _say_unknown("trade", raw, trade_id)
        return TradeStatus.MATCHED


def our_fills(raw: dict[str, Any], me: Identity, fees: FeeSchedule = no_fee_schedule) -> list[VenueTrade]:
    """Our fills in one trade payload (REST /data/trades item or user-channel `trade`)."""
    trade_id = str(raw["id"])
    status = trade_status(raw["status"], trade_id)
    matched_ms = millis(raw.get("match_time") or raw.get("timestamp") or 0)
    condition_id = str(raw.get("market", ""))
    taker_side, taker_token = Side(str(raw["side"]).upper()), str(raw["asset_id"])
    fills = []
    trader_side = str(raw.get("trader_side", "")).upper()
    if trader_side == "TAKER" or (not trader_side and me.owns(raw.get("owner"), None)):
        legs = _taker_legs(raw.get("maker_orders") or (), taker_token) or [("", micros(raw["price"]),
                                                                            micros(raw["size"]))]
        for leg_id, price, size in legs:
            fee = _taker_fee([(price, size)], condition_id, fees)
            fills.append(VenueTrade(
                trade_id=trade_id if len(legs) == 1 else f"{trade_id}/{leg_id}",
                venue_order_id=str(raw["taker_order_id"]), condition_id=condition_id, token_id=taker_token,
                side=taker_side, price=price, size=size, fee=fee or 0, status=status, liquidity="TAKER",
                matched_ms=matched_ms, fee_known=fee is not None,
            ))
    for leg in raw.get("maker_orders") or ():
        if not me.owns(leg.get("owner"), leg.get("maker_address")):
            continue
        price, size = micros(leg["price"]), micros(leg["matched_amount"])
        fills.append(VenueTrade(
            trade_id=trade_id, venue_order_id=str(leg["order_id"]), condition_id=condition_id,
            token_id=str(leg.get("asset_id") or taker_token), side=_maker_side(leg, taker_side, taker_token),
            price=price, size=size, fee=0, status=status, liquidity="MAKER", matched_ms=matched_ms,
        ))
    if not fills and trader_side == "MAKER":
        log.warning("trade names no maker order of ours", extra={"trade_id": trade_id})
    return fills


def _taker_legs(legs: Any, taker_token: str) -> list[tuple[str, int, int]]:
    """(maker order id, price in the taker's token, shares) of each maker leg. The trade's
    top-level price is the taker's limit, not the execution price; a maker leg on the other
    token (a mint or merge) traded at the complement of its own price. Our taker fill is booked
    leg by leg because the venue settles it so: each leg's cash is rounded down on its own, and
    one fill at the size-weighted average price would drift from the wallet by micro-units on
    every fill that takes more than one level."""
    out: list[tuple[str, int, int]] = []
    for leg in legs:
        price = micros(leg["price"])
        if leg.get("asset_id") and str(leg["asset_id"]) != taker_token:
            price = ONE - price
        out.append((str(leg.get("order_id", len(out))), price, micros(leg["matched_amount"])))
    return out


def _taker_fee(legs: list[tuple[int, int]], condition_id: str, fees: FeeSchedule) -> int | None:
    """The taker fee from the market's schedule (the trade record's own rate reads 0 even when
    the venue charges); None when the schedule is not known, never a silent 0."""
    schedule = fees(condition_id)
    if schedule is None:
        return None
    rate_ppm, exponent = schedule
    return sum(taker_fee(price, amount, rate_ppm, exponent) for price, amount in legs)


def user_events(raw: dict[str, Any], me: Identity,
                fees: FeeSchedule = no_fee_schedule) -> list[OrderEvent | TradeEvent]:
    """A user-channel message as protocol events (other kinds yield nothing)."""
    kind = raw.get("event_type")
    if kind == "order" or (kind is None and raw.get("type") in ORDER_MESSAGES):
        return [OrderEvent(venue_order(raw))]
    if kind == "trade":
        return [TradeEvent(fill) for fill in our_fills(raw, me, fees)]
    return []
