"""The seam between the lifecycle (runtime, commands) and the trading machinery.

The runtime decides *when* (start, pause, stop, kill); a `Trading` implementation decides
*how* (recover and reconcile, connect feeds, run strategies, cancel orders). Keeping the
seam narrow lets the lifecycle be tested without a venue and the trading core without a
process. Whether orders may be sent at all is not the seam's: it is the desk's one order gate
(engine/execution/placement.py, `OrderGate`), which the composition root hands to the command
path, the lifecycle and the trading core alike.
"""

from __future__ import annotations

from typing import Any, Protocol

from engine.trading.passes.jobs import Job
from engine.trading.passes.operator_commands import OperatorCommands


class Trading(Protocol):
    async def start(self, *, operator: bool = False) -> None:
        """Recover (reconcile every non-terminal order with the venue) and begin trading.
        `operator` is True for a deliberate Start (not a restart resuming after a crash)."""

    async def clear_start_halts(self) -> str | None:
        """An operator's Start while running: end a halt a Start ends (error rate, balance
        mismatch), checking the balances again at once; return the reason cleared, or None."""

    def heartbeat_facts(self) -> tuple[int | None, int | None]:
        """Recorded with each heartbeat: the age of the oldest book followed (None: none), and when
        the last trading pass completed (None: none yet), so a desk that runs but cannot decide
        shows as such (engine/trading/lookouts/pass_guard.py)."""

    async def pause(self) -> int:
        """Stop deciding and cancel strategy orders; keep feeds and reconciliation alive."""

    async def resume(self) -> None:
        """Resume deciding after a pause."""

    async def stop(self) -> None:
        """Cancel strategy orders and release venue connections."""

    async def kill(self) -> dict[str, Any]:
        """Cancel every order at the venue on the priority lane; return what was cancelled."""

    async def cancel_at_venue(self) -> None:
        """Cancel everything at the venue without writing anything (the database may be locked
        by another process): the kill's own pass records it later. Best effort."""

    async def cancel_everything(self) -> dict[str, Any]:
        """A halt that idles (crash loop): cancel every order at the venue, then release it."""

    async def reload_config(self) -> dict[str, Any]:
        """Re-read strategies, risk limits and settings; return their versions."""

    async def set_mode(self, mode: str, venue: str | None = None) -> None:
        """Switch a venue between paper and live (only called while stopped): the desk's own (`venue` None), or
        another armed on its own."""

    @property
    def operator(self) -> OperatorCommands:
        """The registry's trading kinds (contracts/command_kinds.py, Handler.TRADING), a method each
        (engine/trading/passes/operator_commands.py), applied by engine/process/dispatch.py: the operator's
        order commands and collecting what the venue owes."""

    async def close(self) -> None:
        """Process shutdown: cancel strategy orders best-effort and release everything."""

    def jobs(self) -> list[Job]:
        """Periodic jobs the engine's scheduler should run for this core."""
