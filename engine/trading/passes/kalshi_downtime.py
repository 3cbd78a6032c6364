"""Kalshi's live ledger when the engine comes up halted (a crash loop: engine/process/control.py).

A halt that idles cancels every order at each venue before the engine waits for the operator. At
Kalshi that is not a bare cancel-all: the Kalshi lane's ledger is opened as at any start (recovery
books, each once, what Kalshi did while the engine was down: fills, settlements, voids, orders it
closed), every order is cancelled through the lane's executor, so the ledger records each cancel as
Kalshi answers it, and the lane is closed again. The halted ledger therefore still equals Kalshi:
no working order Kalshi does not hold, no fill or payout left unbooked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from contracts.venues import KALSHI

if TYPE_CHECKING:
    from engine.risk.monitor import RiskMonitor
    from engine.trading.ledgers.venue_link import VenueLink

log = logging.getLogger("engine.trading.passes.kalshi_downtime")


async def cancel_recorded(link: VenueLink, desk_risk: RiskMonitor) -> dict[str, Any]:
    """Every order at Kalshi cancelled and recorded in the live ledger, after recovery."""
    from engine.trading.passes.paper_lane import PaperLane

    lane = PaperLane(link, desk_risk, KALSHI, "live")
    await lane.open(0)  # recovery: what happened at Kalshi while the engine was down, booked once
    try:
        return dict(await lane.kill())
    finally:
        await lane.close()
        log.info("Kalshi's live ledger reconciled and its orders cancelled for a halt")
