"""Settling an arbitrage that filled on some legs only.

The risk gate and the executor place an arbitrage's legs whole or not at all, but the venue
may still fill them unevenly (a leg's liquidity went first). Such a group is reported
(ARB_PARTIAL alert) and then, as the strategy's `on_partial` parameter says:
- "complete": buy what the short legs miss, once, at their original limit (fill-and-kill);
  what that cannot buy is then unwound;
- "unwind": sell what the long legs hold beyond the shortest, once those shares have settled
  (SELLs are sized from settled shares only), at the flatten path's slippage cap;
- "keep": report only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contracts.domain import Side, Tif, fmt
from engine.execution.placement import GroupFill
from engine.execution.planner import OrderSpec, round_price, take_size
from storage.desk.audit import raise_alert, write_audit
from storage.engine_stores import trading_reads

if TYPE_CHECKING:
    from contracts.limits import Limits
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.ledgers.arbs")


@dataclass
class Unwind:
    """Shares of one leg to sell once they have settled."""

    strategy: str
    condition_id: str
    token_id: str
    shares: int
    group: str


@dataclass
class Settlements:
    pending: list[Unwind] = field(default_factory=list)

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) `now` (every pass runs) while a leg waits to be unwound as it settles."""
        return now if self.pending else None


async def settle(link: TradingSite, fill: GroupFill, book: Settlements) -> None:
    """React to an unevenly filled group (from the executor, once answered)."""
    fills = ", ".join(f"{fmt(f)} of {fmt(s.size)}" for _, s, f in fill.legs)
    policy = fill.on_partial or "unwind"
    with link.db.write() as conn:
        raise_alert(conn, level="warning", source="executor", code="ARB_PARTIAL",
                    message=f"strategy '{fill.strategy}' arbitrage {fill.group} filled unevenly ({fills}): {policy}")
        write_audit(conn, actor="engine", action="arb.partial", entity=f"strategy:{fill.strategy}",
                    before={"group": fill.group, "legs": [[m.condition_id, s.token_id, f] for m, s, f in fill.legs]},
                    after={"on_partial": policy})
    if policy == "keep":
        return
    top = max(f for _, _, f in fill.legs)
    if policy == "complete":
        missing = [(m, s, top - f) for m, s, f in fill.legs if f < top]
        sized = [(m, s, take_size(s.price, short, Side.BUY, m.condition_id)) for m, s, short in missing]
        specs = [(fill.strategy, m, OrderSpec(s.token_id, s.outcome, Side.BUY, s.price, size, Tif.FAK),
                  "complete arbitrage") for m, s, size in sized if size >= m.min_size]
        placed = await link.executor.place_now(specs)
        link.executor.drain()
        with link.db.read() as conn:
            bought = trading_reads.filled_by_token(conn, placed.order_ids)
        legs = [(m, s, f + bought.get(s.token_id, 0)) for m, s, f in fill.legs]
        bottom = min(f for _, _, f in legs)
    else:
        legs, bottom = list(fill.legs), min(f for _, _, f in fill.legs)
    book.pending += [Unwind(fill.strategy, m.condition_id, s.token_id, f - bottom, fill.group)
                     for m, s, f in legs if f > bottom]


async def unwind_settled(link: TradingSite, limits: Limits, book: Settlements) -> None:
    """Sell the excess of unevenly filled groups whose shares have settled (every tick)."""
    waiting: list[Unwind] = []
    for unwind in book.pending:
        market = link.catalog.get(unwind.condition_id)
        books = link.marks(unwind.token_id)
        sellable = link.executor.state.totals(unwind.strategy, unwind.token_id).sellable
        if market is None or books is None or books.mid is None or sellable < unwind.shares:
            waiting.append(unwind)  # not settled yet, or no price: never invented
            continue
        floor = max(market.tick, round_price(books.mid - limits.probability("max_slippage"), Side.SELL,
                                             market.tick))
        size = take_size(floor, unwind.shares, Side.SELL, market.condition_id)
        if size >= market.min_size:
            spec = OrderSpec(unwind.token_id, market.outcome_of(unwind.token_id), Side.SELL, floor, size, Tif.FAK)
            await link.executor.place_now([(unwind.strategy, market, spec, "unwind arbitrage")])
            log.warning("arbitrage leg unwound", extra={"group": unwind.group, "token": unwind.token_id,
                                                        "size": size, "limit": floor})
    book.pending = waiting
