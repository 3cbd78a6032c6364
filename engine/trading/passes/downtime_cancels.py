"""Every ledger's orders cancelled when the engine comes up halted (a crash loop: engine/process/control.py).

A halt that idles cancels every order at each venue before the engine waits for the operator: the desk's
ledger is killed (its venue connected for it, then released). At a venue armed on its own that is not a
bare cancel-all: its venue ledger lives its whole life (engine/trading/passes/ledger.py): opened as at any
start (recovery books, each once, what the venue did while the engine was down: fills, settlements, voids,
orders it closed), killed through its executor, so the ledger records each cancel as the venue answers it,
and closed again. The halted ledger therefore still equals the venue: no working order it does not hold,
no fill or payout left unbooked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.venues.registry import adapter_of

if TYPE_CHECKING:
    from contracts.settings import Settings
    from engine.risk.monitor import RiskMonitor
    from engine.trading.parts import TradingSite
    from engine.trading.passes.routing import Ledgers

log = logging.getLogger("engine.trading.passes.downtime_cancels")


async def cancel_everything(ledgers: Ledgers, settings: Settings) -> dict[str, Any]:
    """A halt that idles: the desk's ledger killed (its venue connected for it) and released again, and each
    venue armed live on its own (with its keys) opened, killed and closed (`cancel_recorded`); the desk's
    answer is the answer, each other's under its name."""
    desk = ledgers.desk
    try:
        result = await desk.kill()
        for venue, mode in ledgers.armed.items():
            if mode == "live" and adapter_of(venue).armable(settings):
                result[f"{venue}_live"] = await cancel_recorded(desk, desk.risk, venue)
    finally:
        await desk.disconnect()
    return result


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
