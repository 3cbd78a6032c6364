"""Settling held positions in markets that resolved while nobody was listening.

The market channel announces resolutions as they happen; this catches the ones missed
(the engine was down, the event was dropped, or it named no single winner as a 50/50 does):
for each held market not yet settled, ask the desk's venue for it among its closed markets (its market
data, engine/venues/market_data.py `resolutions`), and settle at the payout vector it reports
(contracts/payouts.py).
"""

from __future__ import annotations

import logging
from contextlib import aclosing
from typing import TYPE_CHECKING

from contracts.venue_policies import policy_for_market
from engine.trading.operator.operator_actions import settle_resolution
from engine.venues.market_data import MarketData, VenueResolution
from storage.desk.audit import raise_alert

if TYPE_CHECKING:
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.settlement.resolution")


async def settle_missed_resolutions(link: TradingSite, market_data: MarketData, *,
                                    also: set[str] | None = None) -> int:
    """`also`: markets held elsewhere (the paper ledger's), asked about the same way; their
    positions settle from the catalog's record of the resolution. Only a market of a venue whose
    resolutions are asked (`resolutions_asked`: the desk's venue knows only those) is asked for here."""
    state = link.executor.state
    held = {cid for (strategy, token), totals in state.positions.items() if totals.size > 0
            for cid in [state.position_market[(strategy, token)][0]]} | (also or set())
    pending = sorted(cid for cid in held if link.catalog.resolution(cid) is None
                     and policy_for_market(cid).resolutions_asked)
    if not pending:
        return 0
    settled = 0
    async with aclosing(market_data.resolutions(pending)) as found:
        async for resolution in found:
            if _settle(link, resolution):
                settled += 1
    return settled


def _settle(link: TradingSite, found: VenueResolution) -> bool:
    condition_id, payouts = found.condition_id, found.payouts
    if found.refused is not None:
        with link.db.write() as conn:
            raise_alert(conn, level="critical", source="engine", code="PAYOUT_REFUSED", subject=condition_id,
                        message=f"market {condition_id[:12]}… resolved with payouts the desk cannot settle at "
                                f"({found.refused}; {found.reported}): its positions stay open until the venue "
                                "reports a vector that sums to 1")
        return False
    if payouts is None:
        return False
    settle_resolution(link, condition_id, payouts)
    log.info("settled a resolution the feed missed", extra={"condition_id": condition_id, "payouts": payouts.label})
    return True
