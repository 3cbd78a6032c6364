"""Order-related operator commands (cancel_order, flatten) and market resolution.

Flatten sells held positions at the best acceptable price: a FAK sell whose limit is the
mid less the max-slippage limit, so it takes the bids down to that floor and no further.
It first withdraws the strategies' quotes in scope and waits for their cancels, so its
SELLs never overlap theirs. The only order ever sent while the kill latch is set is the
flatten the operator configured to follow a kill-switch kill (`kill_flatten`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from engine.control import CommandRejected
from engine.domain import Intent, MarketInfo, Side, Tif
from engine.execution.planner import OrderSpec, round_price, take_size
from engine.execution.status import OrderStatus

if TYPE_CHECKING:
    from engine.core import TradingCore

CANCEL_WAIT_S = 5.0


async def handle(core: TradingCore, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if kind == "cancel_order":
        return await cancel_order(core, payload)
    if kind == "flatten":
        return await flatten(core, payload)
    raise CommandRejected(f"unknown order command {kind!r}")


async def cancel_order(core: TradingCore, payload: dict[str, Any]) -> dict[str, Any]:
    order_id, client_id = payload.get("order_id"), payload.get("client_id")
    if not isinstance(order_id, int) and not isinstance(client_id, str):
        raise CommandRejected('cancel_order needs {"order_id": <number>} or {"client_id": "<id>"}')
    await core._open_venue()
    state = core.executor.state
    match = [o for o in state.orders.values() if o.id == order_id or o.client_id == client_id]
    if not match:
        raise CommandRejected(f"no open order {order_id if order_id is not None else client_id!r} "
                              "(it may already be filled or cancelled)")
    order = match[0]
    if order.status is OrderStatus.PENDING_SUBMIT:
        raise CommandRejected("the order is still being submitted; try again in a moment")
    if order.strategy in core.host.hosted:
        core.executor.latest.pop((order.strategy, order.condition_id), None)
    cancelled = await core.executor.cancel_orders([order])
    core.executor.drain()
    return {"order_id": order.id, "cancelled": bool(cancelled)}


def _scope(core: TradingCore, payload: dict[str, Any]) -> list[tuple[str, str, MarketInfo, int]]:
    """(strategy, token, market, sellable shares) for every held position in scope."""
    want_market, want_strategy = payload.get("condition_id"), payload.get("strategy")
    out = []
    for (strategy, token), totals in core.executor.state.positions.items():
        cid, _ = core.executor.state.position_market[(strategy, token)]
        market = core.catalog.get(cid)
        if market is None or totals.sellable <= 0:
            continue
        if want_market not in (None, cid) or want_strategy not in (None, strategy):
            continue
        out.append((strategy, token, market, totals.sellable))
    return out


async def _withdraw_and_wait(core: TradingCore, scope: list[tuple[str, str, MarketInfo, int]]) -> None:
    keys = {(strategy, market.condition_id) for strategy, _, market, _ in scope}
    for strategy, condition_id in keys:
        core.executor.latest[(strategy, condition_id)] = Intent(strategy, condition_id, ())
    deadline = asyncio.get_running_loop().time() + CANCEL_WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        working = [o for o in core.executor.state.orders.values() if (o.strategy, o.condition_id) in keys]
        if not working:
            return
        await core.executor.cancel_orders([o for o in working if o.status is not OrderStatus.CANCEL_PENDING])
        core.executor.drain()
        await asyncio.sleep(0.05)


async def flatten(core: TradingCore, payload: dict[str, Any], *, after_kill: bool = False) -> dict[str, Any]:
    """`after_kill` only from the engine's own kill-switch path (TradingCore.kill), never from
    a payload: an operator's flatten under the latch is refused."""
    if core.deciding and not after_kill:
        raise CommandRejected("pause or stop the engine first, so strategies do not buy back what flatten sells")
    if _latched(core) and not after_kill:
        raise CommandRejected("the kill latch is set: re-arm first (a kill-switch kill flattens by itself "
                              "when kill_flatten is 1)")
    await core._open_venue()
    scope = _scope(core, payload)
    if not scope:
        return {"orders": 0, "skipped": [], "note": "nothing held in scope"}
    await _withdraw_and_wait(core, scope)
    places, skipped = [], []
    slippage = core.limits.probability("max_slippage")
    max_age = core.limits.ms("max_data_age")
    now = core.clock()
    for strategy, token, market, shares in scope:
        book = core.books.book(token)
        if book is None or book.mid is None or book.age_ms(now) > max_age:
            skipped.append({"token": token, "why": "no fresh two-sided book: no acceptable price"})
            continue
        floor = max(market.tick, round_price(book.mid - slippage, Side.SELL, market.tick))
        size = take_size(floor, shares, Side.SELL)
        if size < market.min_size:
            skipped.append({"token": token, "why": "position below the market's minimum size"})
            continue
        spec = OrderSpec(token, market.outcome_of(token), Side.SELL, floor, size, Tif.FAK)
        places.append((strategy, market, spec, "flatten"))
    placed = await core.executor.place_now(places, override_block=after_kill)
    core.executor.drain()
    return {"orders": placed, "skipped": skipped}


def _latched(core: TradingCore) -> bool:
    with core.db.read() as conn:
        return bool(conn.execute(text("SELECT kill_latched FROM engine_state WHERE id = 1")).scalar_one())


def settle_resolution(core: TradingCore, condition_id: str, winning_token: str) -> None:
    """A market resolved: record it and settle every position in it at 1/0."""
    market = core.catalog.get(condition_id)
    if market is None:
        return
    winner = market.outcome_of(winning_token)
    with core.db.write() as conn:
        conn.execute(text("UPDATE markets SET resolved_outcome = :w, closed = 1, accepting_orders = 0 "
                          "WHERE condition_id = :c"), {"w": winner.value, "c": condition_id})
    core.executor.applier.settle_market(condition_id, winner)
