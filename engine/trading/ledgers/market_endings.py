"""A market the desk hears has ended, or cannot be traded, is closed to the strategies, on a venue
whose markets have no row in the markets table (`VenuePolicy.catalog_rows` false,
contracts/venue_policies.py: the catalog builds them from the operator's pairs).

What the venue's pair feeds tell (engine/venues/registry.py `pair_feeds`) is then the only word the
desk has that one is over: a settlement with a result, a void, or a market that turns out not to be
binary (a scalar market paired before pairing refused them, or one whose YES holders are paid part
before settlement, by a settlement floor). Each closes the market in the catalog for the rest of the
engine's run (`MarketCatalog.close`, kept across reloads; after a restart the feed tells it again at
its first status read, before it reads that book). A closed market is quoted by no strategy, and
the planner cancels its working orders.

A market that is not binary also raises a critical alert, once per run. A YES contract there pays a
value between $0 and $1, not $1 or nothing, so the desk neither prices it (its book is no longer
read, and the paired market gets no reference price from it) nor settles it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from contracts.venue_policies import VenuePolicy, policy_for_market
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import MarketEvent, MarketResolved, MarketVoided, PairNotBinary
from storage.desk.audit import raise_alert
from storage.sqlite.db import Database

log = logging.getLogger("engine.trading.ledgers.market_endings")

NOT_BINARY = "PAIR_NOT_BINARY"  # an alert code's end: the venue's name leads it (`VenuePolicy.code`)


Pairs = Mapping[str, tuple[str, bool]]  # the desk's condition id -> (the paired market's id, inverted)


def close_ended(catalog: MarketCatalog, db: Database, event: MarketEvent, pairs: Callable[[], Pairs]) -> None:
    """Close the market `event` says is over or untradable, on a venue without market rows. Called
    with every market event (a book change most often): `pairs`, which names the pair in an
    alert, is read only for a market that is not binary."""
    if not isinstance(event, MarketResolved | MarketVoided | PairNotBinary):
        return
    policy = policy_for_market(event.condition_id)
    if policy.catalog_rows:
        return
    catalog.close(event.condition_id)
    if isinstance(event, PairNotBinary):
        _alert_not_binary(db, event, pairs(), policy)


def _alert_not_binary(db: Database, event: PairNotBinary, pairs: Pairs, policy: VenuePolicy) -> None:
    ticker = policy.market_name(event.condition_id)
    linked = [cid for cid, (paired, _) in pairs.items() if paired == event.condition_id]
    with_what = f" (paired with {', '.join(linked)})" if linked else ""
    message = (f"{policy.label}'s {ticker}{with_what} is a {event.market_type} market: a YES contract there pays a "
               "value between $0 and $1 (or part of it before settlement), not $1 or nothing at the end, so the desk "
               "neither prices, trades nor settles it. Its book "
               "is no longer read, so the paired market gets no reference price from it, and no strategy trades it. "
               f"Close any position in it on {policy.site}; `python -m engine pairs remove ID` unlinks it once no "
               "ledger holds it.")
    with db.write() as conn:
        raise_alert(conn, level="critical", source="venue", code=policy.code(NOT_BINARY), subject=event.condition_id,
                    message=message)
    log.error("a paired market is not binary: closed to the strategies",
              extra={"venue": policy.venue, "ticker": ticker, "market_type": event.market_type})
