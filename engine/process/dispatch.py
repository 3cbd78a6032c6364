"""One dispatch: the engine's handler of each command kind of the registry (contracts/command_kinds.py).

The registry says what a kind is (its priority, payload, expiry, whether it closes the order gate, which part
of the engine applies it); this table says, for each kind, the one call that applies it: a lifecycle step of
the controller (engine/process/control.py), an operator action of the trading core (the `Trading` seam's
method of the same name, engine/process/trading_seam.py), or a service the engine runs (the notifier's test
message). The command processor (engine/process/commands.py) dispatches from this table alone, and a kind
without an entry here, or an entry without a kind there, fails tests/process/test_command_kinds.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.command_kinds import Handler as Applier
from contracts.command_refusal import CommandRejected
from engine.process.control import Controller
from engine.process.trading_seam import Trading

# A part of the engine other than the lifecycle and the trading core (the registry's handler, e.g. the
# notifier's test message): (payload, actor) -> its answer.
Service = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Appliers:
    """The parts of the engine that apply commands."""

    controller: Controller
    trading: Trading
    services: Mapping[Applier, Service] = field(default_factory=dict)

    def service(self, applier: Applier) -> Service:
        found = self.services.get(applier)
        if found is None:
            raise CommandRejected(f"that command is applied by the {applier.value}, which this engine does not run")
        return found


Handler = Callable[[Appliers, dict[str, Any], str], Awaitable[dict[str, Any]]]  # (appliers, payload, actor)

HANDLERS: Mapping[str, Handler] = {
    "kill": lambda a, p, actor: a.controller.kill(actor, p["reason"]),
    "stop": lambda a, p, actor: a.controller.stop(actor),
    "cancel_order": lambda a, p, actor: a.trading.operator.cancel_order(p),
    "flatten": lambda a, p, actor: a.trading.operator.flatten(p),
    "exit": lambda a, p, actor: a.trading.operator.exit(p),
    "pause": lambda a, p, actor: a.controller.pause(actor),
    "place_order": lambda a, p, actor: a.trading.operator.place_order(p),
    "cancel_iceberg": lambda a, p, actor: a.trading.operator.cancel_iceberg(p),
    "cancel_trailing_stop": lambda a, p, actor: a.trading.operator.cancel_trailing_stop(p),
    "redeem": lambda a, p, actor: a.trading.operator.redeem(p),
    "merge": lambda a, p, actor: a.trading.operator.merge(p),
    "move_funds": lambda a, p, actor: a.trading.operator.move_funds(p),
    "rearm": lambda a, p, actor: a.controller.rearm(actor),
    "set_mode": lambda a, p, actor: a.controller.set_mode(actor, p["mode"], p.get("override", "")),
    "set_venue_mode": lambda a, p, actor: a.controller.set_venue_mode(actor, p["venue"], p["mode"],
                                                                      p.get("override", "")),
    "start": lambda a, p, actor: a.controller.start(actor),
    "resume": lambda a, p, actor: a.controller.resume(actor),
    "reload_config": lambda a, p, actor: a.controller.reload_config(actor),
    "notify_test": lambda a, p, actor: a.service(Applier.NOTIFIER)(p, actor),
}
