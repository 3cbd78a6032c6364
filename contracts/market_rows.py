"""A market's row as the `markets` table holds it, checked field by field before anything uses it.

Two readers, one definition:
- `unreadable`: what the engine cannot trade or replay with. The catalog (engine/feeds/catalog.py)
  sets such a row aside instead of failing a start: its tags or outcomes not a bounded JSON
  list of strings, its tick off the venue's tick set, a size, flag or amount that is not a
  whole number in range, an id or a name that is not text of a sane length.
- `import_problem`: all that, and the venue's own formats, for a row another desk's session
  file claims (storage/research/session_files.py): a condition id of 0x and 64 hex digits, token ids of
  decimal digits (two different ones), a question, a minimum size above 0.

Pure: no I/O. Each answer is one sentence naming the field, or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from contracts.jsonsafe import JsonRefused, loads_bounded
from contracts.payouts import stored_problem
from contracts.venue_rules import TICKS

REQUIRED = ("condition_id", "question", "yes_token", "no_token", "tick", "min_size")
LIST_BYTES = 16 * 1024  # a market's tags or outcomes, as JSON
LIST_ITEMS = 100
ITEM_CHARS = 200
ID_CHARS = 100
TEXT_CHARS = 2_000  # a question, a slug, a reason
MOST_MONEY = 10**18  # micro-pUSD: a trillion pUSD, far above any market's volume
MOST_SIZE = 10**15  # micro-shares: a billion shares
CONDITION_ID = re.compile(r"0x[0-9a-fA-F]{64}")
TOKEN_ID = re.compile(r"[0-9]{1,78}")  # a uint256 in decimal
FLAGS = ("neg_risk", "active", "closed", "accepting_orders", "tradable")
AMOUNTS = ("volume", "volume_24h", "liquidity", "fee_rate_ppm")
OPTIONAL_TEXT = ("gamma_id", "slug", "neg_risk_market_id", "gamma_version", "untradable_reason")
OPTIONAL_TIMES = ("end_at", "fees_at")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, most: int) -> bool:
    return isinstance(value, str) and len(value) <= most


def _id(value: Any) -> bool:
    return _text(value, ID_CHARS) and bool(value) and value.isprintable() and not any(c.isspace() for c in value)


def _list_problem(raw: Any) -> str | None:
    """Why a stored JSON list of names (tags, outcomes) cannot be read, or None."""
    try:
        value = loads_bounded(raw, max_bytes=LIST_BYTES, max_depth=2, what="its text") if isinstance(raw, str) else raw
    except JsonRefused as exc:
        return f"is not a JSON list ({exc})"
    if not isinstance(value, list) or len(value) > LIST_ITEMS:
        return f"is not a JSON list of at most {LIST_ITEMS} names"
    if not all(_text(item, ITEM_CHARS) for item in value):
        return f"holds something other than names of at most {ITEM_CHARS} characters"
    return None


def _optional(row: Mapping[str, Any], field: str, ok: Callable[[Any], bool],
              problem: str) -> Callable[[], str | None]:
    """A check of a column that may be absent (None): `problem` when present and not `ok`."""
    return lambda: None if row.get(field) is None or ok(row[field]) else problem


def _checks(row: Mapping[str, Any]) -> list[tuple[str, Callable[[], str | None]]]:
    """(field, its check) for every field the engine reads: each check says what is wrong."""
    checks: list[tuple[str, Callable[[], str | None]]] = [
        ("condition_id", lambda: None if _id(row.get("condition_id")) else "is not an id"),
        ("yes_token", lambda: None if _id(row.get("yes_token")) else "is not an id"),
        ("no_token", lambda: None if _id(row.get("no_token")) else "is not an id"),
        ("question", lambda: None if _text(row.get("question"), TEXT_CHARS) else
         f"is not text of at most {TEXT_CHARS} characters"),
        ("tick", lambda: None if _whole(row.get("tick")) and row.get("tick") in TICKS else
         "is not one of the venue's tick sizes (0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001)"),
        ("min_size", lambda: None if _whole(row.get("min_size")) and 0 <= row["min_size"] <= MOST_SIZE else
         "is not a whole number of micro-shares"),
        ("tags", lambda: None if row.get("tags") is None else _list_problem(row["tags"])),
        ("outcomes", lambda: None if row.get("outcomes") is None else _list_problem(row["outcomes"])),
        ("fee_exponent", lambda: None if row.get("fee_exponent") is None or
         (_whole(row["fee_exponent"]) and 0 <= row["fee_exponent"] <= 10) else "is not a small whole number"),
    ]
    checks.append(("payouts", lambda: stored_problem(row)))
    checks += [(f, _optional(row, f, lambda v: v in (0, 1), "is not 0 or 1")) for f in FLAGS]
    checks += [(f, _optional(row, f, lambda v: _whole(v) and 0 <= v <= MOST_MONEY, "is not a whole amount"))
               for f in AMOUNTS]
    checks += [(f, _optional(row, f, _whole, "is not a time in ms")) for f in OPTIONAL_TIMES]
    checks += [(f, _optional(row, f, lambda v: _text(v, TEXT_CHARS), "is not text")) for f in OPTIONAL_TEXT]
    return checks


def unreadable(row: Mapping[str, Any]) -> str | None:
    """Why the engine cannot use this stored row ("tags: ..."), or None."""
    for field, check in _checks(row):
        problem = check()
        if problem is not None:
            return f"{field} {problem}"
    return None


def import_problem(row: Mapping[str, Any]) -> str | None:
    """Why a market row from a session file is refused, or None: every field the engine reads,
    in the venue's own formats."""
    missing = [field for field in REQUIRED if row.get(field) is None]
    if missing:
        return f"it lacks {', '.join(missing)}"
    problem = unreadable(row)
    if problem is not None:
        return problem
    if not CONDITION_ID.fullmatch(row["condition_id"]):
        return "condition_id is not the venue's (0x and 64 hex digits)"
    for side in ("yes_token", "no_token"):
        if not TOKEN_ID.fullmatch(row[side]):
            return f"{side} is not the venue's (a token id is a number in decimal)"
    if row["yes_token"] == row["no_token"]:
        return "yes_token and no_token are the same token"
    if not row["question"].strip():
        return "question is empty"
    if row["min_size"] <= 0:
        return "min_size is not above 0"
    return None


TRAIL_ITEMS = 20
TRAIL_UNREADABLE = ("unreadable",)


def resolution_trail(raw: Any) -> tuple[str, ...]:
    """A stored (or listed) UMA resolution trail: its statuses, lower case. What cannot be read as a
    short list of words reads as a trail all the same (`TRAIL_UNREADABLE`): a market whose history is
    unknown is not entered as if it had none."""
    if raw in (None, "", "[]"):
        return ()
    try:
        value = loads_bounded(raw, max_bytes=LIST_BYTES, max_depth=2, what="its text") if isinstance(raw, str) else raw
    except JsonRefused:
        return TRAIL_UNREADABLE
    if not isinstance(value, (list, tuple)) or len(value) > TRAIL_ITEMS or not all(isinstance(v, str) for v in value):
        return TRAIL_UNREADABLE
    return tuple(v.strip().lower()[:32] for v in value if v.strip())
