"""What the risk gate did with an intent, in words, for the orders placed for it (`Intent.gate`,
kept on each order and in its trail: storage/sqlite/migrations/m0091_order_trail.py).

An intent the gate took as asked carries no note, and its orders say so (`GATE_APPROVED`); one whose quotes
it trimmed or held back (some of them: an intent it emptied places nothing, and its orders' cancel
says why) names each, in YES space as the strategy quoted it: `BUY 25 at 0.45 -> 10 (MAX_ORDER_SIZE)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from contracts.domain import Intent, fmt
from engine.risk.gate import Decision

MAX_NOTE = 300  # a note past this is cut (an intent of many quotes, each trimmed)


def noted(intents: list[Intent], decisions: Iterable[Decision]) -> list[Intent]:
    """`intents` as the gate returns them, each with quotes left and a decision of the gate's given
    the note of what it trimmed or held back."""
    notes: dict[tuple[str, str], list[str]] = {}
    for d in decisions:
        notes.setdefault((d.strategy, d.condition_id), []).append(_words(d))
    if not notes:
        return intents
    return [replace(i, gate=_cut("; ".join(notes[key])))
            if i.quotes and (key := (i.strategy, i.condition_id)) in notes else i for i in intents]


def _words(d: Decision) -> str:
    what = f"{d.side.value} {fmt(d.requested)} at {fmt(d.price)}"
    outcome = f"-> {fmt(d.approved)}" if d.approved else "held back"
    detail = f": {d.detail}" if d.detail else ""
    return f"{what} {outcome} ({d.reason.value}{detail})"


def _cut(note: str) -> str:
    return note if len(note) <= MAX_NOTE else note[:MAX_NOTE - 1] + "…"
