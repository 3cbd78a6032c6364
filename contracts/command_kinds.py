"""Every operator command kind, in one registry: the order it is claimed in, what its payload may
carry and which part of the engine applies it.

The dashboard, the CLI and the Telegram bot post through storage/command_queue/posting.py, which
takes a kind's priority, expiry and payload schema from here; the engine's command processor
(engine/process/commands.py) takes from here whether a kind closes the order gate at its claim and
which handler applies it. A kind added anywhere else is unknown everywhere (tests/process/
test_command_kinds.py keeps the registry and its handlers complete), so they cannot drift apart
again: before this registry, `exit` had a schema and a handler but no priority, and an operator's
exit was claimed below a `reload_config`.

Priorities: a kill first, then what reduces risk (stop, cancelling, selling), then pausing, then
what adds risk or changes configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.exit_floors import FLOORS_FIELD, floor_problem
from contracts.venue_policies import venues_armed_alone

REASON_CHARS = 500


class Handler(StrEnum):
    """Which part of the engine applies a kind."""

    CONTROLLER = "controller"  # the lifecycle: engine/process/control.py
    TRADING = "trading"  # the trading core's operator actions: the Trading seam's `handle`
    NOTIFIER = "notifier"  # the notifier's test message: engine/notify/notifier.py


@dataclass(frozen=True)
class Field:
    """One payload key: its JSON type(s), whether it must be there, the strings it may be, how long."""

    kind: type | tuple[type, ...]
    required: bool = False
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()  # a callable: read when a payload is checked
    max_chars: int = 200
    problem: Callable[[object], str | None] | None = None  # what is wrong with a value of a structured field

    def allowed(self) -> tuple[str, ...]:
        """The strings it may be now (none listed: any)."""
        return self.choices() if callable(self.choices) else self.choices


REASON = Field(str, max_chars=REASON_CHARS)
NUMBER = Field((int, float, str), max_chars=30)  # a decimal amount: 10, 0.45 or "0.45"
# The lowest price per position the operator confirmed for an exit or a flatten (contracts/exit_floors.py):
# the engine never sells below it.
FLOORS = Field(dict, problem=floor_problem)


@dataclass(frozen=True)
class CommandKind:
    name: str
    priority: int  # claimed highest first (storage/command_queue/commands.py, claim_next)
    handler: Handler
    payload: Mapping[str, Field] = field(default_factory=dict)
    never_expires: bool = False  # pending until claimed, however long the engine was down
    closes_gate: bool = False  # no order leaves once it is claimed (engine/execution/placement.py, OrderGate)


_REASON_ONLY = {"reason": REASON}


def _apart() -> tuple[str, ...]:
    """The venues armed on their own (every registered venue but the desk's own), as registered now."""
    return tuple(policy.venue for policy in venues_armed_alone())


KINDS: tuple[CommandKind, ...] = (
    # A kill never expires and never fails on its payload (storage/command_queue/command_payloads.py).
    CommandKind("kill", 100, Handler.CONTROLLER, _REASON_ONLY, never_expires=True, closes_gate=True),
    CommandKind("stop", 80, Handler.CONTROLLER, _REASON_ONLY, closes_gate=True),
    CommandKind("cancel_order", 70, Handler.TRADING, {"order_id": Field(int), "client_id": Field(str)}),
    CommandKind("flatten", 70, Handler.TRADING, {"condition_id": Field(str), "strategy": Field(str),
                                                 FLOORS_FIELD: FLOORS}),
    # Sell a strategy's position through the exit path while it trades: one token (`outcome`), one
    # market, or everything the strategy holds ("flatten strategy"); `ledger` paper sells what the
    # paper ledger holds beside a live desk (engine/trading/passes/ledger.py), the desk's mode otherwise;
    # `floors`: the lowest price per position the operator confirmed (none: the engine's floor when it sends).
    # It reduces risk as a flatten does, so it is claimed with it.
    CommandKind("exit", 70, Handler.TRADING, {
        "strategy": Field(str, required=True), "condition_id": Field(str, max_chars=100),
        "outcome": Field(str, choices=("YES", "NO")), "ledger": Field(str, choices=("paper", "live")),
        FLOORS_FIELD: FLOORS, "reason": REASON}),
    CommandKind("pause", 60, Handler.CONTROLLER, _REASON_ONLY),
    CommandKind("place_order", 50, Handler.TRADING, {
        "condition_id": Field(str, required=True, max_chars=100),
        "outcome": Field(str, required=True, choices=("YES", "NO")),
        "side": Field(str, required=True, choices=("BUY", "SELL")),
        "size": NUMBER, "size_usdc": NUMBER, "price": NUMBER, "slippage": NUMBER,
        "tif": Field(str, choices=("GTC", "GTD", "FOK", "FAK")),
        "post_only": Field(bool),
        "expires_at": Field(int),
        # A standing order instead (contracts/standing_orders.py): a trailing stop (`trail`, its distance below the
        # best bid's high; `floor`, the lowest price its sale accepts) or an iceberg (`slice`, the shares shown).
        "trail": NUMBER, "floor": NUMBER, "slice": NUMBER,
        "reason": REASON}),
    # Cancel a standing order of the manual ticket whole: an iceberg (its shown slice cancelled, nothing more
    # placed) or a trailing stop. Cancelling reduces risk as cancel_order does, so it is claimed with it.
    CommandKind("cancel_iceberg", 70, Handler.TRADING, {"iceberg_id": Field(int, required=True), "reason": REASON}),
    CommandKind("cancel_trailing_stop", 70, Handler.TRADING, {"trail_id": Field(int, required=True),
                                                              "reason": REASON}),
    # Collect what the venue owes for resolved positions (all final markets, or one) now.
    CommandKind("redeem", 45, Handler.TRADING, {"condition_id": Field(str, max_chars=100), "reason": REASON}),
    # Merge complete YES+NO sets of a market back into pUSD (all held, or `shares` of them).
    CommandKind("merge", 45, Handler.TRADING, {"condition_id": Field(str, required=True, max_chars=100),
                                               "strategy": Field(str), "shares": NUMBER, "reason": REASON}),
    # Move money between the sections of a venue's account (Kalshi's exchange shards): a transfer
    # (`source`, `destination`, `amount` in the venue's cash, dollars) or a target split of the free money
    # (`allocation`: "0:80,2:20"; "" none). Only when the operator asks (the desk never moves money by itself),
    # typed to confirm on the dashboard; the administrator's (contracts/roles.py places no other role).
    CommandKind("move_funds", 45, Handler.TRADING, {
        "venue": Field(str, required=True, choices=_apart), "source": Field(int), "destination": Field(int),
        "amount": NUMBER, "allocation": Field(str, max_chars=200), "reason": REASON}),
    CommandKind("rearm", 40, Handler.CONTROLLER, _REASON_ONLY),
    # `override`: the failing checks of the arming gate the operator typed to arm past, comma-separated
    # (storage/desk/arming.py: each named, audited; the checks nothing overrides stay refused).
    CommandKind("set_mode", 30, Handler.CONTROLLER, {"mode": Field(str, required=True, choices=("paper", "live")),
                                                    "override": Field(str, max_chars=500)}),
    # A venue armed on its own, on its own (paper until the operator arms it live, with its checklist).
    CommandKind("set_venue_mode", 30, Handler.CONTROLLER, {"venue": Field(str, required=True, choices=_apart),
                                                          "mode": Field(str, required=True,
                                                                        choices=("paper", "live")),
                                                          "override": Field(str, max_chars=500)}),
    CommandKind("start", 20, Handler.CONTROLLER, _REASON_ONLY),
    CommandKind("resume", 20, Handler.CONTROLLER, _REASON_ONLY),
    CommandKind("reload_config", 10, Handler.CONTROLLER, _REASON_ONLY),
    CommandKind("notify_test", 5, Handler.NOTIFIER, {"message": Field(str, max_chars=200)}),
)
BY_NAME: Mapping[str, CommandKind] = {kind.name: kind for kind in KINDS}
