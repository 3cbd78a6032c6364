"""Before/after diff of two audit JSON documents (pure: no streamlit)."""

from __future__ import annotations

import json
from typing import Any

from contracts.jsonsafe import CONFIG_BYTES, preview, read_stored

MISSING = "—"
AUDIT_BYTES = 4 * CONFIG_BYTES  # before and after of one change: a strategy's params and markets, a setting


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


def _show(value: Any) -> str:
    return MISSING if value is None else json.dumps(value, sort_keys=True, default=str)


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
                "before": _show(old.get(field)),
                "after": _show(new.get(field)),
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
