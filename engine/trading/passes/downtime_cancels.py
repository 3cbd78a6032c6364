"""A venue's live ledger armed on its own (contracts/venue_policies.py `venues_armed_alone`) when
the engine comes up halted (a crash loop: engine/process/control.py).

A halt that idles cancels every order at each venue before the engine waits for the operator. At a
venue armed on its own that is not a bare cancel-all: its venue ledger is opened as at any start
(recovery books, each once, what the venue did while the engine was down: fills, settlements, voids,
orders it closed), every order is cancelled through the ledger's executor, so the ledger records each
cancel as the venue answers it, and the ledger is closed again. The halted ledger therefore still
equals the venue: no working order it does not hold, no fill or payout left unbooked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.risk.monitor import RiskMonitor
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.passes.downtime_cancels")


async def cancel_recorded(desk: TradingSite, desk_risk: RiskMonitor, venue: str) -> dict[str, Any]:
    """Every order at `venue` (one armed on its own) cancelled and recorded in its live ledger, after recovery."""
    from engine.trading.passes.ledger import Ledger, other_ledger

    assert isinstance(desk, Ledger)
    ledger = other_ledger(desk.link, desk_risk, venue, "live")
    await ledger.open(0)  # recovery: what happened at the venue while the engine was down, booked once
    try:
        return dict(await ledger.kill())
    finally:
        await ledger.close()
        log.info("a live ledger reconciled and its orders cancelled for a halt", extra={"venue": venue})
