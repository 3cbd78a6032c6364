"""What each operator command may carry: the one rule for the dashboard, the CLI and the engine.

A payload is a bounded JSON object with known keys of known types. Anything else (unknown
keys, wrong types, malformed or oversized JSON) is refused with a message naming the field,
so a refused command changes nothing. Operator payloads carry no internal flags: the engine's
own kill-switch flatten never travels as a command. `kill` is the exception that never
fails: whatever its payload, the kill goes ahead, with the text as its reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.jsonsafe import COMMAND_BYTES, JsonRefused, loads_bounded

REASON_CHARS = 500


class PayloadError(ValueError):
    """The payload is refused; the message is for the operator."""


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = False
    choices: tuple[str, ...] = ()
    max_chars: int = 200


REASON = Field(str, max_chars=REASON_CHARS)
NUMBER = Field((int, float, str), max_chars=30)  # a decimal amount: 10, 0.45 or "0.45"
SCHEMAS: Mapping[str, Mapping[str, Field]] = {
    "start": {"reason": REASON},
    "stop": {"reason": REASON},
    "pause": {"reason": REASON},
    "resume": {"reason": REASON},
    "rearm": {"reason": REASON},
    "reload_config": {"reason": REASON},
    "set_mode": {"mode": Field(str, required=True, choices=("paper", "live"))},
    # Another venue armed on its own (Kalshi: paper until the operator arms it live, with its checklist).
    "set_venue_mode": {"venue": Field(str, required=True, choices=("kalshi",)),
                       "mode": Field(str, required=True, choices=("paper", "live"))},
    "cancel_order": {"order_id": Field(int), "client_id": Field(str)},
    "flatten": {"condition_id": Field(str), "strategy": Field(str)},
    # Sell a strategy's position through the exit path while it trades: one token (`outcome`), one
    # market, or everything the strategy holds ("flatten strategy"); `ledger` paper sells what the
    # paper lane holds beside a live desk (engine/trading/paper_lane.py), the desk's mode otherwise.
    "exit": {"strategy": Field(str, required=True), "condition_id": Field(str, max_chars=100),
             "outcome": Field(str, choices=("YES", "NO")), "ledger": Field(str, choices=("paper", "live")),
             "reason": REASON},
    # Collect what the venue owes for resolved positions (all final markets, or one) now.
    "redeem": {"condition_id": Field(str, max_chars=100), "reason": REASON},
    # Merge complete YES+NO sets of a market back into pUSD (all held, or `shares` of them).
    "merge": {"condition_id": Field(str, required=True, max_chars=100), "strategy": Field(str),
              "shares": NUMBER, "reason": REASON},
    "kill": {"reason": REASON},
    "notify_test": {"message": Field(str, max_chars=200)},  # engine/notify: send a test message now
    "place_order": {
        "condition_id": Field(str, required=True, max_chars=100),
        "outcome": Field(str, required=True, choices=("YES", "NO")),
        "side": Field(str, required=True, choices=("BUY", "SELL")),
        "size": NUMBER, "size_usdc": NUMBER, "price": NUMBER, "slippage": NUMBER,
        "tif": Field(str, choices=("GTC", "GTD", "FOK", "FAK")),
        "post_only": Field(bool),
        "expires_at": Field(int),
        "reason": REASON,
    },
}
KINDS = frozenset(SCHEMAS)


def parse(kind: str, raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The validated payload of a `kind` command, or PayloadError."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise PayloadError(f"unknown command kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    payload = _decode(raw)
    unknown = sorted(set(payload) - set(schema))
    if unknown:
        raise PayloadError(f"{kind} does not take {', '.join(repr(k) for k in unknown)} "
                           f"(it takes: {', '.join(schema) or 'nothing'})")
    for name, field in schema.items():
        _check(kind, name, field, payload)
    if kind == "cancel_order" and "order_id" not in payload and "client_id" not in payload:
        raise PayloadError('cancel_order needs {"order_id": <number>} or {"client_id": "<id>"}')
    return payload


def kill_reason(raw: str | Mapping[str, Any] | None) -> str:
    """A kill's reason from any payload: the kill itself never fails on what it carries."""
    try:
        payload = _decode(raw)
        reason = payload.get("reason")
        if isinstance(reason, str) and reason.strip():
            return reason.strip()[:REASON_CHARS]
        return "operator kill"
    except PayloadError:
        text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
        return "operator kill: " + " ".join(text.split())[:REASON_CHARS]


def _decode(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        raw = json.dumps(raw)
    try:
        value = loads_bounded(raw, max_bytes=COMMAND_BYTES, max_depth=4, what="the payload")
    except JsonRefused as exc:
        raise PayloadError(str(exc)) from None
    if not isinstance(value, dict):
        raise PayloadError('the payload must be a JSON object, e.g. {"reason": "..."}')
    return value


def _check(kind: str, name: str, field: Field, payload: dict[str, Any]) -> None:
    if name not in payload:
        if field.required:
            raise PayloadError(f"{kind} needs {name!r}")
        return
    value = payload[name]
    kinds = field.kind if isinstance(field.kind, tuple) else (field.kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        expected = field.kind.__name__ if isinstance(field.kind, type) else " or ".join(t.__name__ for t in field.kind)
        raise PayloadError(f"{kind}: {name!r} must be a {expected}, not {value!r:.60}")
    if isinstance(value, str):
        if len(value) > field.max_chars:
            raise PayloadError(f"{kind}: {name!r} is longer than {field.max_chars} characters")
        if field.choices and value not in field.choices:
            raise PayloadError(f"{kind}: {name!r} must be one of {', '.join(field.choices)}, not {value!r:.60}")
