"""A resting Kalshi order changed in place (the Kalshi venue's `amend`: engine/execution/amends.py decides
which quote moves go this way).

A decrease goes by Kalshi's Decrease Order (V2), the contracts between the old and the new total taken off
(`reduce_by`: fills racing it never leave more than the new total to fill; Kalshi refuses it when fewer
rest), which keeps the queue place; any other change by its Amend Order (V2), the new total (Kalshi refuses
one it has already filled), which puts the order at the back of the queue. Both name the order's shard. An
answer naming another order than the one amended is taken as unknown (Kalshi's changelog, 2026-05-21: in
uncommon cases the answer describes another order, the amend itself done): the executor looks the order up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from contracts.venues.kalshi.grid import WHOLE_CENTS, Band
from engine.venues.base import AmendRequest, AmendResult, OrderRejected, VenueUnavailable
from engine.venues.kalshi import wire
from engine.venues.kalshi.client import KalshiClient


async def amend_order(client: KalshiClient, request: AmendRequest, kalshi_id: str | None,
                      bands: tuple[Band, ...] | None, shard_of: Callable[[], Awaitable[int | None]]) -> AmendResult:
    """Send one amend or decrease of the desk's order `request` names (Kalshi's id for it `kalshi_id`, None:
    Kalshi does not know it; its market's price grid `bands`; `shard_of`: the shard it rests on)."""
    if kalshi_id is None:
        raise OrderRejected("no such order at Kalshi")
    try:
        ticker, book_side, yes_price = wire.amend_terms(request, bands or WHOLE_CENTS)
    except wire.NotKalshi as exc:
        raise OrderRejected(str(exc)) from None
    shard = await shard_of()
    if request.decrease:
        answer = await client.decrease_order(kalshi_id, reduce_by=request.old_size - request.size, shard=shard)
    else:
        answer = await client.amend_order(kalshi_id, ticker=ticker, book_side=book_side, price=yes_price,
                                          total_count=request.size, shard=shard)
    if answer.order_id != kalshi_id:
        raise VenueUnavailable(f"Kalshi's answer to the amend of order {kalshi_id} names order "
                               f"{answer.order_id}: the outcome is read from the order")
    return AmendResult(request.venue_order_id, answer.remaining_count, answer.fill_count or 0)
