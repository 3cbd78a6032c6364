"""The operator's order commands, one method per kind of the registry's trading kinds
(contracts/command_kinds.py, Handler.TRADING), applied by engine/process/dispatch.py through the `Trading`
seam's `operator` (engine/process/trading_seam.py). Each market a command names is decided again once the
command has acted. What each does: engine/trading/operator/operator_actions.py and operator_exits.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.command_refusal import CommandRejected
from engine.trading.hosting.strategy_host import StrategyHost
from engine.trading.ledgers.venue_funds import move_funds
from engine.trading.ledgers.venue_link import VenueLink
from engine.trading.operator import operator_actions
from engine.trading.operator.operator_exits import exit_positions
from engine.trading.passes.ledger import flatten_ledger
from engine.trading.passes.routing import Ledgers


class OperatorCommands:
    def __init__(self, link: VenueLink, ledgers: Ledgers, host: StrategyHost, *, mark: Callable[[object], None],
                 deciding: Callable[[], bool]) -> None:
        """`mark`: a market decided again on events; `deciding`: whether the strategies trade now."""
        self.link, self.ledgers, self.host, self.mark, self.deciding = link, ledgers, host, mark, deciding

    async def cancel_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.mark(payload.get("condition_id"))
        return await operator_actions.cancel_order(self.ledgers.desk, self.host, payload)

    async def place_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The manual ticket, on the desk's ledger."""
        self.mark(payload.get("condition_id"))
        desk = self.ledgers.desk
        return await operator_actions.place_order(desk, self.link, desk.risk, payload)

    async def flatten(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Every venue's: the desk's ledger sells, then each other venue's ledger sells there too."""
        self.mark(payload.get("condition_id"))
        desk = self.ledgers.desk
        result = await operator_actions.flatten(desk, desk.risk, payload, deciding=self.deciding())
        for other in self.ledgers.others():
            if other.venue_name != desk.venue_name and other.live:
                result = {**result, other.answer_key: await flatten_ledger(other, payload)}
        return result

    async def exit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Sold on the ledger holding it (routing.Ledgers.for_exit)."""
        self.mark(payload.get("condition_id"))
        ledger = self.ledgers.for_exit(payload)
        return await exit_positions(ledger, ledger.risk, ledger.exits, ledger.operator_exits, payload)

    async def redeem(self, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._collect("redeem", payload)

    async def merge(self, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._collect("merge", payload)

    async def move_funds(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Money moved between the sections of a live venue's account, as the operator confirmed it."""
        ledger = self.ledgers.get(str(payload["venue"]), "live")
        return await move_funds(ledger.executor.venue if ledger is not None and ledger.live else None, payload)

    async def _collect(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.mark(payload.get("condition_id"))
        desk = self.ledgers.desk
        if not desk.live:
            raise CommandRejected("the engine is not running: start it first (redemptions and merges go "
                                  "through the running engine, which books what the venue pays)")
        return await desk.collections.command(kind, payload)
