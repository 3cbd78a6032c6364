"""The desk's one state: what every surface says the desk is doing, from one function.

The dashboard's header, `python -m engine status` (and Telegram's /status, which prints the same
lines), and the metrics endpoint each read `desk_state` and say what it says, so no two of them can
disagree: a killed desk is KILLED everywhere, never "trading ACTIVE"; a stopped desk is STOPPED, not
"trading with real money". The engine's lifecycle state, its kill latch, its heartbeat and the
risk breakers' trading state are folded here in one order (the first that holds wins):

    KILLED    the kill latch is set: no order can be placed until the operator re-arms
    DOWN      no engine heartbeats (not running, or stuck): nothing happens
    CANNOT_DECIDE  running, but its trading passes keep failing or stalled (issue 57's fail-closed guard)
    ERROR     the engine failed to start or to run: not trading
    STOPPED   stopped (or not started yet): not trading
    STARTING  / STOPPING: on its way
    PAUSED    the strategies decide nothing; manual orders still work
    HALTED    running, but the breakers stopped new orders (with their reason)
    REDUCING  running, exits and reductions only
    TRADING   running, trading

`money` says where real money is at stake, and only against a real venue (contracts/real_money.py:
the hosts the running engine recorded at its start).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from contracts.real_money import real_money, where

if TYPE_CHECKING:  # desk_status builds its report with this module: the type alone, to import no cycle
    from storage.desk.desk_status import EngineStatus

Level = Literal["ok", "info", "warning", "critical"]
DESK_STATES = ("KILLED", "DOWN", "CANNOT_DECIDE", "ERROR", "STOPPED", "STARTING", "STOPPING", "PAUSED", "HALTED",
               "REDUCING", "TRADING")
STOPPED_STATES = frozenset({"IDLE", "STOPPED"})


@dataclass(frozen=True)
class DeskState:
    code: str  # one of DESK_STATES
    label: str  # the phrase every surface shows
    reason: str | None  # why, when there is one to give
    level: Level
    trading: bool  # strategies may place orders now

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def desk_state(status: EngineStatus) -> DeskState:
    """The one state of the desk, from the engine's row (storage/desk/desk_status.py, engine_status)."""
    if status.kill_latched:
        return DeskState("KILLED", "KILLED: no orders", status.kill_reason or "no reason given", "critical", False)
    if not status.engine_up:
        seen = "never seen" if status.heartbeat_age_s is None else f"last heartbeat {status.heartbeat_age_s:.0f} s ago"
        return DeskState("DOWN", "engine DOWN: nothing trades", f"the engine is not running or is stuck ({seen})",
                         "critical", False)
    if status.cannot_decide:  # its passes fail or stall: nothing it quotes is kept up to date
        return DeskState("CANNOT_DECIDE", "CANNOT DECIDE", status.cannot_decide, "critical", False)
    if status.state == "ERROR":
        return DeskState("ERROR", "ERROR: not trading", status.last_error, "critical", False)
    if status.state in STOPPED_STATES:
        return DeskState("STOPPED", "STOPPED: not trading", "press Start to trade", "info", False)
    if status.state in ("STARTING", "STOPPING"):
        return DeskState(status.state, f"{status.state}: not trading yet" if status.state == "STARTING"
                         else "STOPPING: cancelling and closing", None, "info", False)
    if status.state == "PAUSED":
        return DeskState("PAUSED", "PAUSED: strategies idle", "the strategies decide nothing; manual orders work",
                         "warning", False)
    if status.trading_state == "HALTED":
        return DeskState("HALTED", "HALTED: no new orders", status.trading_state_reason, "critical", False)
    if status.trading_state == "REDUCING":
        return DeskState("REDUCING", "REDUCING: exits only", status.trading_state_reason, "warning", True)
    return DeskState("TRADING", "trading ACTIVE", None, "ok", True)


# -- where money is at stake -----------------------------------------------------------------------


def money_label(mode: str, host: str | None, venue: str = "") -> str:
    """The mode badge's words: "PAPER", "LIVE — real money" only against a real venue, and a live
    mode against the simulator or a mock-funds host said as such."""
    prefix = f"{venue} " if venue else ""
    if mode != "live":
        return f"{prefix}PAPER"
    real = real_money(host)
    if real:
        return f"{prefix}LIVE — real money"
    if real is None:
        return f"{prefix}LIVE (venue not read yet: the engine has not started)"
    return f"{prefix}LIVE on {where(host)}: no real money"


def stake(host: str | None) -> str:
    """What a live ledger on `host` trades, in two or three words: "real money" only on a real venue."""
    real = real_money(host)
    return "real money" if real else f"no real money ({where(host)})" if real is False else "venue not read yet"


def real_money_at_stake(status: EngineStatus) -> bool:
    """Whether any venue is armed live against a real venue (what the red badge warns of): the desk's, or
    one armed on its own."""
    return (status.mode == "live" and bool(real_money(status.venue_host))) or \
        any(bool(real_money(status.host_of(venue))) for venue in status.armed_live())


def armed_sentence(mode: str, host: str | None, state: DeskState, venue: str = "The desk") -> str:
    """What being armed live means now, in one sentence (Settings page): real money only against a
    real venue, and only while the desk trades."""
    real = real_money(host)
    at_stake = ("real money" if real else "no real money (a rehearsal)" if real is False
                else "money on a venue the engine has not read yet")
    if state.trading:
        return f"{venue} is armed LIVE on {where(host)} and trading: {at_stake}."
    return f"{venue} is armed LIVE on {where(host)} but not trading ({state.label}): {at_stake} once it trades."
