"""What a backtest replayed, in sentences, for its page and its HTML report: the data's source, where
its trade prints came from (or that it had none: book only), the hours missing, the tick size
changes applied at their time and which fair values a value-betting run used. Pure: the engine
writes the facts into the run's metrics (engine/backtest/as_it_was.py), this only words them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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
    return lines
