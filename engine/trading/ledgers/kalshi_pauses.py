"""Kalshi's pauses, known before they bite (engine/feeds/kalshi_exchange.py reads them).

- **Before a scheduled pause** (its `/exchange/schedule` window, LEAD_MS ahead) the Kalshi lane's
  intents are emptied: its quotes are withdrawn while cancels are still taken, and nothing new is
  placed into the window. Resting orders are sent with `cancel_order_on_pause` besides
  (engine/venues/kalshi_wire.py), so one placed a moment before is cancelled by Kalshi itself.
- **While trading is paused** (`/exchange/status`), nothing is placed: each quote held is in the
  decisions log as VENUE_MAINTENANCE with the reason. A pause refusal that comes anyway (a pause not
  on the schedule, met before the status said so) is Kalshi's maintenance, never a fault
  (engine/venues/kalshi_wire.py), so no breaker counts it.
- **It resumes by itself**: the status is read every second while paused, and the next pass after
  Kalshi resumes places the quotes again.
- **Said**: engine_state.kalshi_exchange holds what was last read (`engine status`, the dashboard);
  the start of a pause is a KALSHI_PAUSED warning and its end a KALSHI_RESUMED note, on the dashboard's
  alerts and through the notifier (Telegram).

Paper trading on Kalshi (a paper venue standing in for it) is held the same way: Kalshi's books do
not move while it is paused, and a paper fill there would be one Kalshi could not have made.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from contracts.domain import Intent
from engine.feeds.kalshi_exchange import LEAD_MS, ExchangeState
from engine.risk.gate import Decision, Reason
from storage.desk.audit import raise_alert
from storage.engine_stores.engine_state import set_kalshi_exchange
from storage.sqlite.db import Database


def _when(ms: int | None) -> str:
    return "?" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%a %Y-%m-%d %H:%M UTC")


def held(state: ExchangeState | None, now: int, lead_ms: int = LEAD_MS) -> str | None:
    """Why the Kalshi lane places nothing now (None: it trades)."""
    if state is None or state.read_ms is None:
        return None
    if state.paused:
        kind = "the whole exchange is paused (cancels refused too)" if not state.exchange_active else \
            "Kalshi's trading is paused"
        until = f" until about {_when(state.resume_ms)}" if state.resume_ms else ""
        return f"{kind}{until}: nothing is placed there until it resumes"
    window = state.near(now, lead_ms)
    if window is not None:
        return (f"Kalshi pauses trading {_when(window[0])} to {_when(window[1])} (its schedule): the desk's quotes "
                f"there are withdrawn {lead_ms // 1000} s before and placed again once it resumes")
    return None


def hold_for_pause(intents: list[Intent], state: ExchangeState | None,
                   now: int) -> tuple[list[Intent], list[Decision]]:
    """The Kalshi lane's intents, emptied while Kalshi is paused or about to be, with a decision for
    each quote held."""
    why = held(state, now)
    if why is None:
        return intents, []
    decisions = [Decision(i.strategy, i.condition_id, q.side, q.price, q.size, 0, Reason.VENUE_MAINTENANCE, why)
                 for i in intents for q in i.quotes]
    return [Intent(i.strategy, i.condition_id, ()) for i in intents], decisions


def told(db: Database, before: ExchangeState, after: ExchangeState, now: int) -> None:
    """What was read kept for `engine status` and the dashboard; a pause's start and end alerted."""
    with db.write() as conn:
        set_kalshi_exchange(conn, json.dumps(after.as_json(now)))
        if after.read_ms is None:
            return
        if after.paused and not before.paused:
            until = f" until about {_when(after.resume_ms)}" if after.resume_ms else ""
            kind = "The exchange is paused (cancels refused too)" if not after.exchange_active else \
                "Trading is paused"
            raise_alert(conn, level="warning", source="engine", code="KALSHI_PAUSED", subject="kalshi",
                        message=f"{kind} on Kalshi{until}. The desk places nothing there meanwhile (not a fault) "
                                "and resumes by itself when Kalshi does.")
        elif before.paused and not after.paused and before.read_ms is not None:
            raise_alert(conn, level="info", source="engine", code="KALSHI_RESUMED", subject="kalshi",
                        message="Kalshi trades again: the desk's Kalshi strategies quote again from their next pass.")
