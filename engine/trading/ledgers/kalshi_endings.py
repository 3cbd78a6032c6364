"""A paired Kalshi market the desk hears has ended, or cannot be traded, is closed to the strategies.

Kalshi markets have no row in the markets table (the catalog builds them from the pairs), so
what the Kalshi poller tells (engine/feeds/kalshi_reference.py) is the only word the desk has
that one is over: a settlement with a result, a void, or a market that turns out not to be
binary (a scalar market paired before pairing refused them, or one Kalshi gives a settlement floor,
whose YES holders are paid part before settlement). Each closes the market in the
catalog for the rest of the engine's run (`MarketCatalog.close`, kept across reloads; after a
restart the poller tells it again at its first status read, before it reads that book). A closed
market is quoted by no strategy, and the planner cancels its working orders.

A market that is not binary also raises a critical alert, once per run. A YES contract there pays a
value between $0 and $1, not $1 or nothing, so the desk neither prices it (its book is no longer
read, and the paired Polymarket market gets no reference price from it) nor settles it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from contracts import kalshi_ids
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import MarketEvent, MarketResolved, MarketVoided, PairNotBinary
from storage.desk.audit import raise_alert
from storage.sqlite.db import Database

log = logging.getLogger("engine.trading.ledgers.kalshi_endings")

NOT_BINARY = "KALSHI_PAIR_NOT_BINARY"


Pairs = Mapping[str, tuple[str, bool]]  # Polymarket condition id -> (the Kalshi market's id, inverted)


def close_ended(catalog: MarketCatalog, db: Database, event: MarketEvent, pairs: Callable[[], Pairs]) -> None:
    """Close the Kalshi market `event` says is over or untradable. Called
    with every market event (a book change most often): `pairs`, which names the pair in an
    alert, is read only for a market that is not binary."""
    if not isinstance(event, MarketResolved | MarketVoided | PairNotBinary) or \
            not event.condition_id.startswith(kalshi_ids.PREFIX):
        return
    catalog.close(event.condition_id)
    if isinstance(event, PairNotBinary):
        _alert_not_binary(db, event, pairs())


def _alert_not_binary(db: Database, event: PairNotBinary, pairs: Pairs) -> None:
    ticker = kalshi_ids.ticker_of(event.condition_id)
    linked = [cid for cid, (paired, _) in pairs.items() if paired == event.condition_id]
    with_what = f" (paired with {', '.join(linked)})" if linked else ""
    message = (f"Kalshi's {ticker}{with_what} is a {event.market_type} market: a YES contract there pays a value "
               "between $0 and $1 (or part of it before settlement), not $1 or nothing at the end, so the desk "
               "neither prices, trades nor settles it. Its book "
               "is no longer read, so the paired market gets no reference price from it, and no strategy trades it. "
               "Close any position in it on kalshi.com; `python -m engine pairs remove ID` unlinks it once no "
               "ledger holds it.")
    with db.write() as conn:
        raise_alert(conn, level="critical", source="venue", code=NOT_BINARY, subject=event.condition_id,
                    message=message)
    log.error("a paired Kalshi market is not binary: closed to the strategies",
              extra={"ticker": ticker, "market_type": event.market_type})
