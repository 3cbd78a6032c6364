"""Settling held positions in markets that resolved while nobody was listening.

The market channel announces resolutions as they happen; this catches the ones missed
(the engine was down, the event was dropped): for each held market not yet settled, ask
Gamma for it including closed markets, and settle at 1/0 when one outcome's price is 1.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.domain import ONE, to_micros
from engine.feeds.parse_markets import json_list
from engine.feeds.rest import RestClient
from engine.trading.operator_actions import settle_resolution

if TYPE_CHECKING:
    from engine.trading.venue_link import VenueLink

log = logging.getLogger("engine.trading.resolution")


def winning_token(raw: dict) -> str | None:  # type: ignore[type-arg]
    """The token whose final price is 1 in a closed Gamma market, or None while undecided. A
    proposed (or disputed) outcome is not final: UMA's liveness has not passed and nothing is
    redeemable yet, whatever the prices show."""
    if not raw.get("closed"):
        return None
    status = str(raw.get("umaResolutionStatus") or "").strip().lower()
    if status and status != "resolved":
        return None
    tokens, prices = json_list(raw.get("clobTokenIds")), json_list(raw.get("outcomePrices"))
    winners = [t for t, p in zip(tokens, prices, strict=False) if to_micros(str(p)) == ONE]
    return str(winners[0]) if len(winners) == 1 else None


async def settle_missed_resolutions(link: VenueLink) -> int:
    state = link.executor.state
    held = {cid for (strategy, token), totals in state.positions.items() if totals.size > 0
            for cid in [state.position_market[(strategy, token)][0]]}
    pending = sorted(cid for cid in held if link.catalog.resolution(cid) is None)
    if not pending:
        return 0
    rest = RestClient(link.settings.gamma_host)
    settled = 0
    try:
        for cid in pending:
            raws = await rest.get_json("/markets", {"condition_ids": cid, "closed": "true"})
            for raw in raws if isinstance(raws, list) else []:
                token = winning_token(raw)
                if token is not None and raw.get("conditionId") == cid:
                    settle_resolution(link, cid, token)
                    settled += 1
                    log.info("settled a resolution the feed missed", extra={"condition_id": cid})
    finally:
        await rest.close()
    return settled
