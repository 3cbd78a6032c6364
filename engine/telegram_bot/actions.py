"""The bot's commands: one table, each with its help line, and for those that steer the engine the
command kind it posts to the `commands` table (the same queue the dashboard and the CLI use) and
whether it must be confirmed first. Going live is never offered here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.exit_floors import FLOORS_FIELD, ExitLine, floors_of
from storage.command_queue.command_payloads import REASON_CHARS


@dataclass(frozen=True)
class Spec:
    usage: str
    help: str
    kind: str | None = None  # the command it posts; None: a read, or handled on its own
    confirm: str | None = None  # the question a dangerous command asks first


COMMANDS: dict[str, Spec] = {
    "status": Spec("/status", "the desk at a glance: exactly what `python -m engine status` prints"),
    "pnl": Spec("/pnl [today|week]", "PnL today (default) or over 7 days, with fills and per-strategy realized"),
    "positions": Spec("/positions", "open positions: shares, cost, realized, the /flatten line for the desk's own; "
                                    "the paper ledger's beside a live desk, and Kalshi's ledger when it trades the "
                                    "other mode, apart"),
    "orders": Spec("/orders", "open orders (the paper ledger's and Kalshi's ledger apart, as /positions)"),
    "alerts": Spec("/alerts", "alerts not acknowledged yet, each with an Acknowledge button"),
    "pause": Spec("/pause", "pause trading: strategies stop and their orders are withdrawn (yours stay)", "pause"),
    "resume": Spec("/resume", "resume a paused engine", "resume"),
    "start": Spec("/start", "start trading (confirm)", "start",
                  "Start the engine? Its enabled strategies begin trading in the current mode."),
    "stop": Spec("/stop", "stop trading and cancel the strategies' orders (confirm)", "stop",
                 "Stop the engine? It cancels the strategies' open orders and stays stopped until /start."),
    "kill": Spec("/kill [reason]", "cancel everything at the venue and latch until /rearm (confirm)", "kill",
                 "KILL the engine? Every open order is cancelled at the venue and nothing trades until /rearm."),
    "rearm": Spec("/rearm", "clear the kill latch (the engine stays stopped until /start) (confirm)", "rearm",
                  "Re-arm after the kill? The latch is cleared; the engine stays stopped until /start."),
    "flatten": Spec("/flatten <market>", "sell every position in a market (condition id prefix or slug, as "
                    "/positions shows) (confirm)", "flatten",
                    "Flatten? Every position in this market is sold now (the engine must be paused or stopped)."),
    "strategy": Spec("/strategy <name> on|off", "enable or disable a strategy (audited; the engine reloads)"),
    "help": Spec("/help", "this list"),
}
WINDOWS = ("today", "week")


@dataclass(frozen=True)
class Action:
    kind: str
    payload: dict[str, Any]
    label: str
    confirm: str | None


def lifecycle(name: str, args: list[str]) -> Action | str:
    """The action a steering command asks for, or what is wrong with how it was written."""
    spec = COMMANDS[name]
    assert spec.kind is not None
    if name == "kill":
        reason = " ".join(args).strip()[:REASON_CHARS] or "kill from Telegram"
        return Action("kill", {"reason": reason}, "kill", f"{spec.confirm}\nReason: {reason}")
    if args:
        return f"{spec.usage} takes no arguments"
    return Action(spec.kind, {"reason": "from Telegram"}, name, spec.confirm)


def flatten(condition_id: str, market: str, lines: list[ExitLine]) -> Action:
    """`/flatten <market>`: the confirmation states each position's floor, and the command carries them
    (contracts/exit_floors.py): the engine never sells below what was confirmed here."""
    said = "\n".join(f"• {line.words()}" for line in lines) or "• nothing held there now"
    payload: dict[str, Any] = {"condition_id": condition_id, FLOORS_FIELD: floors_of(lines)}
    return Action("flatten", payload, "flatten", f"{COMMANDS['flatten'].confirm}\nMarket: {market}\n{said}")


def strategy_switch(args: list[str]) -> tuple[str, bool] | str:
    """(name, enabled) from `/strategy <name> on|off` (a name may hold spaces)."""
    if len(args) < 2 or args[-1].lower() not in ("on", "off"):
        return f"usage: {COMMANDS['strategy'].usage}"
    return " ".join(args[:-1]), args[-1].lower() == "on"


def help_text() -> str:
    lines = ["Commands (dangerous ones ask for a confirmation that expires):"]
    lines += [f"{spec.usage} — {spec.help}" for spec in COMMANDS.values()]
    lines.append("Every command is audited as telegram:<your chat id>, like the dashboard's and the CLI's.")
    return "\n".join(lines)
