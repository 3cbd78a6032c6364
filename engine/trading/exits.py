"""Exits a strategy takes on its positions, whatever its own logic wants: a stop loss or a take
profit (on the mark's move from the average entry price, or on the unrealized PnL), and an
order-age limit that cancels resting orders left too long.

Finding an exit is pure (`find_exits`); taking one (`take_exit`) withdraws the strategy from
that market, sells what it holds settled with a fill-and-kill at the flatten path's slippage
cap (mid less the max-slippage limit), writes the decision with its reason code, an audit row
and an alert, and starts the strategy's cooldown there so it does not buy straight back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.domain import Book, Intent, Side, Tif, fmt, notional
from engine.execution.planner import OrderSpec, round_price, take_size
from engine.execution.state import ExecutionState
from engine.contracts.order_status import OrderStatus
from engine.risk.context import yes_space
from engine.risk.gate import Decision, Reason
from engine.contracts.limits import Limits
from engine.contracts.strategy_limits import DEFAULTS
from storage.audit import raise_alert, write_audit

if TYPE_CHECKING:
    from engine.trading.parts import CoreParts

log = logging.getLogger("engine.trading.exits")
NO_EXITS = frozenset({"manual", "imported"})  # the operator's books: no strategy's exits apply
RETRY_MS = 5_000  # what an exit could not sell (unsettled, or past the slippage cap) is tried again this often


@dataclass(frozen=True)
class Exit:
    strategy: str
    condition_id: str
    token_id: str
    reason: Reason  # STOP_LOSS or TAKE_PROFIT
    detail: str
    shares: int  # settled, sellable shares to sell
    mid: int


def find_exits(state: ExecutionState, marks: Callable[[str], Book | None],
               limits: Mapping[str, Limits]) -> list[Exit]:
    """Positions past their strategy's stop loss or take profit (pure)."""
    exits = []
    armed: dict[str, bool] = {}
    for (strategy, token), totals in sorted(state.positions.items()):
        if strategy in NO_EXITS or totals.sellable <= 0 or totals.size <= 0:
            continue
        lim = limits.get(strategy, DEFAULTS)
        if not armed.setdefault(strategy, _armed(lim)):
            continue  # most strategies set no exit: their positions cost nothing to look at
        book = marks(token)
        mid = book.mid if book is not None else None
        if mid is None:
            continue
        hit = _trigger(lim, totals.cost * 1_000_000 // totals.size, mid, totals.size)
        if hit is not None:
            cid, _ = state.position_market[(strategy, token)]
            exits.append(Exit(strategy, cid, token, hit[0], hit[1], totals.sellable, mid))
    return exits


def _armed(lim: Limits) -> bool:
    return any(lim.usdc(key) > 0 for key in ("stop_loss_pnl", "take_profit_pnl")) or any(
        lim.probability(key) > 0 for key in ("stop_loss_move", "take_profit_move"))


def _trigger(lim: Limits, entry: int, mark: int, size: int) -> tuple[Reason, str] | None:
    move = mark - entry
    pnl = notional(mark, size) - notional(entry, size)
    checks = (
        (Reason.STOP_LOSS, lim.probability("stop_loss_move"), -move, f"mark {fmt(mark)} is {fmt(-move)} below "
                                                                      f"the entry {fmt(entry)}"),
        (Reason.STOP_LOSS, lim.usdc("stop_loss_pnl"), -pnl, f"unrealized {pnl / 1e6:+.2f} USDC"),
        (Reason.TAKE_PROFIT, lim.probability("take_profit_move"), move, f"mark {fmt(mark)} is {fmt(move)} above "
                                                                        f"the entry {fmt(entry)}"),
        (Reason.TAKE_PROFIT, lim.usdc("take_profit_pnl"), pnl, f"unrealized {pnl / 1e6:+.2f} USDC"),
    )
    for reason, threshold, value, detail in checks:
        if threshold > 0 and value >= threshold:
            return reason, detail
    return None


async def take_exit(core: CoreParts, exit_: Exit) -> int:
    """Withdraw the strategy from the market, sell what it holds settled (FAK at the mid less
    the max-slippage limit), record it; returns how many orders the venue took."""
    market = core.catalog.get(exit_.condition_id)
    now = core.clock()
    last = core.risk.exits_taken.get((exit_.strategy, exit_.token_id), 0)
    if market is None or now - last < RETRY_MS:
        return 0  # one exit at a time: the last one's fill-and-kill has only just been answered
    core.risk.exits_taken[(exit_.strategy, exit_.token_id)] = now
    cooldown = core.risk.strategies.limits.get(exit_.strategy, DEFAULTS).ms("exit_cooldown")
    core.risk.cooldowns[(exit_.strategy, exit_.condition_id)] = core.clock() + cooldown
    core.executor.latest[(exit_.strategy, exit_.condition_id)] = Intent(exit_.strategy, exit_.condition_id, ())
    floor = max(market.tick, round_price(exit_.mid - core.limits.probability("max_slippage"), Side.SELL, market.tick))
    size = take_size(floor, exit_.shares, Side.SELL)
    outcome = market.outcome_of(exit_.token_id)
    placed = 0
    if size >= market.min_size and not _selling_already(core.executor.state, exit_):
        spec = OrderSpec(exit_.token_id, outcome, Side.SELL, floor, size, Tif.FAK)
        placed = (await core.executor.place_now([(exit_.strategy, market, spec, exit_.reason.value.lower())])).count
    _record(core, exit_, floor, size, placed)
    return placed


def _selling_already(state: ExecutionState, exit_: Exit) -> bool:
    return any(o.strategy == exit_.strategy and o.token_id == exit_.token_id and o.side is Side.SELL
               and o.tif in (Tif.FAK, Tif.FOK) for o in state.orders.values())


def _record(core: CoreParts, exit_: Exit, floor: int, size: int, placed: int) -> None:
    outcome_note = f"FAK SELL {fmt(size)} at {fmt(floor)} or better" if placed else "nothing sellable placed"
    market = core.catalog.get(exit_.condition_id)
    side, price = yes_space(market.outcome_of(exit_.token_id), Side.SELL, floor) if market else (Side.SELL, floor)
    core.risk.decisions.write([Decision(exit_.strategy, exit_.condition_id, side, price, exit_.shares, size,
                                        exit_.reason, f"{exit_.detail}; {outcome_note}")], core.clock())
    with core.db.write() as conn:
        write_audit(conn, actor="engine", action=f"exit.{exit_.reason.value.lower()}",
                    entity=f"strategy:{exit_.strategy}",
                    before={"market": exit_.condition_id, "token": exit_.token_id, "shares": exit_.shares},
                    after={"why": exit_.detail, "sell_size": size, "limit": floor, "placed": placed})
        raise_alert(conn, level="warning", source="risk", code=exit_.reason.value,
                    message=f"strategy '{exit_.strategy}' {exit_.reason.value.replace('_', ' ').lower()}: "
                            f"{exit_.detail}; {outcome_note}")
    log.warning("exit taken", extra={"strategy": exit_.strategy, "reason": exit_.reason.value,
                                     "detail": exit_.detail, "placed": placed})


def stale_orders(state: ExecutionState, limits: Mapping[str, Limits], now: int) -> list[tuple[str, int]]:
    """(strategy, order id) of resting orders older than their strategy's max order age (pure)."""
    out = []
    for order in state.orders.values():
        age = limits.get(order.strategy, DEFAULTS).ms("max_order_age")
        if age and order.status in (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED) and now - order.created_at > age:
            out.append((order.strategy, order.id))
    return out


async def cancel_stale(core: CoreParts) -> int:
    """The stale-order clean-up: cancel what is past its strategy's max order age, as decisions
    (ORDER_AGE) with an audit row; the strategy quotes afresh on its next pass."""
    now = core.clock()
    stale = stale_orders(core.executor.state, core.risk.strategies.limits, now)
    if not stale:
        return 0
    orders = [core.executor.state.orders[i] for _, i in stale if i in core.executor.state.orders]
    decisions = []
    for order in orders:
        side, price = yes_space(order.outcome, order.side, order.price)
        decisions.append(Decision(order.strategy, order.condition_id, side, price, order.size, 0,
                                  Reason.ORDER_AGE, f"resting {(now - order.created_at) // 1000} s"))
    core.risk.decisions.write(decisions, now)
    with core.db.write() as conn:
        write_audit(conn, actor="engine", action="exit.order_age", entity="orders",
                    before={"orders": [o.id for o in orders]}, after={"cancelled": True})
    return await core.executor.cancel_orders(orders)
