"""What each operator command may carry: the one rule for the dashboard, the CLI and the engine
(each kind's schema is its entry in contracts/command_kinds.py).

A payload is a bounded JSON object with known keys of known types. Anything else (unknown
keys, wrong types, malformed or oversized JSON) is refused with a message naming the field,
so a refused command changes nothing. Operator payloads carry no internal flags: the engine's
own kill-switch flatten never travels as a command. `kill` is the exception that never
fails: whatever its payload, the kill goes ahead, with the text as its reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from contracts.command_kinds import KINDS as REGISTRY
from contracts.command_kinds import REASON_CHARS as REASON_CHARS
from contracts.command_kinds import Field
from contracts.jsonsafe import COMMAND_BYTES, JsonRefused, loads_bounded


class PayloadError(ValueError):
    """The payload is refused; the message is for the operator."""


SCHEMAS: Mapping[str, Mapping[str, Field]] = {kind.name: kind.payload for kind in REGISTRY}
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
    if field.problem is not None and (problem := field.problem(value)) is not None:
        raise PayloadError(f"{kind}: {name!r} {problem}")
    if isinstance(value, str):
        if len(value) > field.max_chars:
            raise PayloadError(f"{kind}: {name!r} is longer than {field.max_chars} characters")
        if (allowed := field.allowed()) and value not in allowed:
            raise PayloadError(f"{kind}: {name!r} must be one of {', '.join(allowed)}, not {value!r:.60}")
