"""What a backtest replayed, in sentences, for its page and its HTML report: the data's source, where
its trade prints came from (or that it had none: book only), the hours missing, the tick size
changes applied at their time and which fair values a value-betting run used. Pure: the engine
writes the facts into the run's metrics (engine/backtest/as_it_was.py), this only words them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from contracts.resolutions import SAID, utc

UNKNOWN = "This run was made before backtests recorded their history: its source, prints and gaps are unknown."


def history_words(history: Mapping[str, Any]) -> list[str]:
    """The history a run replayed, in sentences (its page and report)."""
    def utc(at: int) -> str:
        return datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%d %H:%M")

    lines = [f"Data: {history.get('source', 'recorded ticks')}."]
    prints = {"archive": "the archive's own trade prints (each with its fee)",
              "data_api": "the Data API's public trades (to the second)",
              "none": "no trade prints: book only, so resting orders fill only when the book crosses them",
              "recorded": "the prints the desk recorded",
              "kalshi_trades": "Kalshi's public trades"}
    for session in history.get("sessions", []):
        layouts = "/".join(session.get("layouts", [])) or "-"
        book = f"; book: {session['book']}" if session.get("book") else ""
        spans = session.get("spans") or []
        if len(spans) > 1:
            book += "; data for " + ", ".join(f"{utc(a)} to {utc(b)}" for a, b in spans)
        lines.append(f"Session {session['name']!r}: {session['source']} ({layouts}), "
                     f"{prints.get(session['prints'], session['prints'])}{book}.")
    gaps = history.get("gaps", [])
    lines.append("Missing data (books reset there): " + "; ".join(f"{utc(a)} to {utc(b)}" for a, b in gaps) + "."
                 if gaps else "No missing hours found in the replayed span.")
    if history.get("tick_changes"):
        lines.append(f"Tick size changes applied at their time: {history['tick_changes']}.")
    if history.get("fair_values"):
        lines.append(f"Fair values: {history['fair_values']}.")
    return lines + resolution_words(history.get("resolutions") or {})


def resolution_words(resolutions: Mapping[str, Any]) -> list[str]:
    """How the run's markets ended, in sentences (engine/backtest/resolutions.py writes the facts): each end
    booked as the venue pays it, each market still held at the run's end (valued at its last mid) with what is
    known of its end, and what the venue still owed."""
    lines = [f"Resolved inside the run, booked as the venue pays it: {market_name(r['market'])} {r['outcome']} at "
             f"{utc(r['at'])} UTC ({SAID.get(r['source'], r['source'])})." for r in resolutions.get("settled", [])]
    for held in resolutions.get("open", []):
        refused = f"; its end was not booked: {held['refused']}" if held.get("refused") else ""
        lines.append(f"Held at the run's end, not settled: {market_name(held['market'])} is valued at its last mid "
                     f"(at cost where no book was known): {held['known']}{refused}.")
    if resolutions.get("owed"):
        lines.append(f"Owed by the venue at the run's end, not yet paid (in equity, not in cash): "
                     f"{resolutions['owed']}.")
    return lines


def best_trial_ends(best: Mapping[str, Any] | None) -> list[str]:
    """How the markets of a sweep's best trial ended in its training run, in sentences ([] when nothing to say)."""
    ends = (best or {}).get("resolutions") or {}
    return [f"Best trial's training run: {line}" for line in resolution_words(ends)]


def ends_before_resolution(history: Mapping[str, Any] | None) -> bool:
    """Whether a run held positions at its end in markets it did not see end (valued at their last mid)."""
    return isinstance(history, Mapping) and bool((history.get("resolutions") or {}).get("open"))


def market_name(condition_id: str) -> str:
    """A market as a sentence names it: a Kalshi market by its ticker id, another by its id's start."""
    return condition_id if condition_id.startswith("kalshi:") else f"{condition_id[:12]}…"
