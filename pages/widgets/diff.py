"""Before/after diff of two audit JSON documents (pure: no streamlit).

The documents keep what their writers stored: money and shares in micro-units, times in epoch
milliseconds, an order's status in the venue's word. A person reads them as the pages show such
values elsewhere (`readable`): pUSD with two decimals, a probability, shares, a UTC time, RESTING
for a paper order the venue calls LIVE (charts/tables.py's words).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from charts.tables import STATUS_WORDS
from contracts.jsonsafe import CONFIG_BYTES, preview, read_stored

MISSING = "—"
AUDIT_BYTES = 4 * CONFIG_BYTES  # before and after of one change: a strategy's params and markets, a setting
MICRO = 1_000_000
# Field names (the last part of a dotted path) whose whole numbers are micro-units, as the writers
# store them: money (micro-pUSD), a price (micro-probability), shares (micro-shares).
MONEY = frozenset({"capital", "cash", "cost", "fee", "fees", "amount", "notional", "proceeds", "pusd", "balance",
                   "starting_cash", "deposit", "owed", "paid", "realized", "exposure", "collateral"})
PRICE = frozenset({"price", "limit", "mid", "floor", "fair_value"})
SHARES = frozenset({"size", "shares", "sold", "held", "filled", "tokens"})
# A strategy's own params are written as a person typed them (size 20 shares, price 0.45): whole
# numbers this small are taken as typed, not as micro-units.
TYPED_BELOW = 100_000
EPOCH_MS = (10**12, 10**14)  # a whole number of milliseconds in this range is a moment (2001 to 5138)


def _load(raw: str | None) -> Any:
    if raw is None or (isinstance(raw, float) and raw != raw):  # None or NaN from pandas
        return None
    value, problem = read_stored(raw, max_bytes=AUDIT_BYTES, what="the stored document")
    if problem:  # written around the dashboard: shown as text, with why it is not a diff
        return f"(not readable: {problem}) {preview(str(raw))}"
    return value


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted paths ("params.size"); lists and scalars are leaves."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix or "value": value}


def _fields(raw: str | None) -> dict[str, Any]:
    value = _load(raw)
    return {} if value is None else _flatten(value)


def _show(field: str, value: Any) -> str:
    if value is None:
        return MISSING
    shown = readable(field, value)
    if isinstance(value, int) and isinstance(shown, str):  # a number put in words: "10,000.00 pUSD"
        return shown
    return json.dumps(shown, sort_keys=True, default=str)


def readable(field: str, value: Any) -> Any:
    """`value` of `field` as a person reads it: a string when it was turned into words (money,
    a price, shares, a time, a status), else the value as stored (lists and objects inside
    turned the same way, field by field)."""
    name = field.rsplit(".", 1)[-1].lower()
    if isinstance(value, dict):
        return {k: readable(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(name, v) for v in value]
    if isinstance(value, str):
        return STATUS_WORDS.get(value, value) if name == "status" else value
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if (name.endswith(("_ms", "_at")) or name == "at") and EPOCH_MS[0] <= value < EPOCH_MS[1]:
        return datetime.fromtimestamp(value / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if name in MONEY:
        return f"{value / MICRO:,.2f} pUSD"
    if name in PRICE and TYPED_BELOW <= abs(value) <= MICRO:
        return f"{value / MICRO:.4f}".rstrip("0").rstrip(".")
    if name in SHARES and abs(value) >= TYPED_BELOW:
        return f"{value / MICRO:,.2f} sh"
    return value


def audit_diff(before: str | None, after: str | None) -> list[dict[str, str]]:
    """Rows {field, before, after, change} for every field that differs, in field order."""
    old, new = _fields(before), _fields(after)
    rows = []
    for field in sorted(set(old) | set(new)):
        if field in old and field in new and old[field] == new[field]:
            continue
        change = "added" if field not in old else "removed" if field not in new else "changed"
        rows.append(
            {
                "field": field,
                "before": _show(field, old.get(field)),
                "after": _show(field, new.get(field)),
                "change": change,
            }
        )
    return rows


def change_summary(before: str | None, after: str | None) -> str:
    """What an audit entry changed, on one line: "paused: false → true; version: 3 → 4" (a field
    added reads "field = value", one removed "field removed")."""
    parts = []
    for row in audit_diff(before, after):
        if row["change"] == "added":
            parts.append(f"{row['field']} = {row['after']}")
        elif row["change"] == "removed":
            parts.append(f"{row['field']} removed")
        else:
            parts.append(f"{row['field']}: {row['before']} → {row['after']}")
    return "; ".join(parts) or "no field changed"


def _unnested(value: Any) -> Any:
    """A document whose strings may themselves hold JSON (as some writers once stored a
    setting's or a strategy's JSON text inside the audit's JSON), with those strings decoded."""
    if isinstance(value, dict):
        return {k: _unnested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unnested(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _unnested(json.loads(value))
        except ValueError:
            return value
    return value


def readable_payload(raw: str | None) -> str | None:
    """An audit row's before or after as one line a person reads: JSON without escaped JSON
    inside it, keys as written (None stays None: nothing before a creation)."""
    value = _load(raw)
    if value is None:
        return None
    if isinstance(value, str):  # not readable as JSON: the reason and the start of the text
        return value
    return json.dumps(_unnested(value), ensure_ascii=False, default=str)
