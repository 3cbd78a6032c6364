"""A market's tick changes while we trade it: plan with the new one at once.

The venue moves a market between ticks (0.01 -> 0.001 past 0.96 or below 0.04, and back) and
says so on the market channel (`tick_size_change`). Orders on the old grid are refused from
then on, so the catalog takes the new tick the moment the event arrives (the executor's next
pass plans every affected quote afresh, replacing resting orders that are off the new grid),
and the markets table keeps it, so a reload before the next market refresh does not bring the
old tick back.
"""

from __future__ import annotations

import logging

from contracts.domain import MarketInfo, fmt
from contracts.venue_rules import TICKS
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import TickSizeChanged
from storage.engine_stores import trading_writes
from storage.sqlite.db import Database

log = logging.getLogger("engine.trading.ledgers.ticks")


def apply_tick_change(catalog: MarketCatalog, db: Database, event: TickSizeChanged,
                      now: int) -> MarketInfo | None:
    """Take the new tick; returns the market when its tick changed."""
    if event.new_tick not in TICKS:
        log.warning("tick size change to an unknown tick ignored", extra={"token_id": event.token_id,
                                                                          "tick": event.new_tick})
        return None
    market = catalog.set_tick(event.token_id, event.new_tick)
    if market is None:
        return None
    with db.write() as conn:
        trading_writes.set_market_tick(conn, market.condition_id, event.new_tick, now)
    old = "unknown" if event.old_tick is None else fmt(event.old_tick)
    log.info("market tick changed: planning with the new tick", extra={
        "condition_id": market.condition_id, "old_tick": old, "new_tick": fmt(event.new_tick)})
    return market
