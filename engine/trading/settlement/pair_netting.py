"""A venue that nets pairs (`VenuePolicy.nets_pairs`, contracts/venue_policies.py): a YES contract
and a NO contract of one market, held together, are a dollar, and the venue turns them into one at
once (its positions are signed, never both sides). Such a venue's ledger does the same for each
strategy after every pass: its complete YES+NO sets of a market there (settled, not promised to a
resting sell) leave its positions at their share of the pair's cost and a dollar a set is booked as
cash, in one transaction, through the ledger's merge records (a merge the venue paid at once:
engine/execution/claims.py). Without it paper would hold cash the venue frees, and a live ledger
would disagree with the venue's positions."""

from __future__ import annotations

import logging

from contracts.command_refusal import CommandRejected
from contracts.venue_policies import policy_for_market
from engine.trading.settlement.auto_merge import held_pairs
from engine.trading.settlement.collections import Collections

log = logging.getLogger("engine.trading.settlement.pair_netting")


def net_held_pairs(collections: Collections) -> int:
    """Every strategy's complete sets of each market it holds both sides of on a venue that nets
    pairs, turned into cash; returns the sets netted (micro-contracts)."""
    netted = 0
    for strategy, cid in held_pairs(collections):
        market = collections.catalog.get(cid)
        policy = policy_for_market(cid)
        if market is None or not policy.nets_pairs or collections.catalog.resolution(cid) is not None:
            continue  # a settled market pays its winning side instead
        try:
            legs = collections.merge_legs(market, strategy, None)
        except CommandRejected:
            continue  # both sides held, but a resting sell holds one of them
        sets = collections.ex.cash_book.netted(market, strategy, legs, venue=policy.venue)
        log.info("a venue that nets pairs netted a strategy's YES and NO",
                 extra={"venue": policy.venue, "strategy": strategy, "condition_id": cid, "sets": sets})
        netted += sets
    return netted
