"""The Markets page's event view: a neg-risk market's Gamma event as discovery stored it (its
whole outcome set, each named, a placeholder or the "Other" market; whether it is augmented),
with each member's YES touch from the recorded books, so the trader sees what a set-buying
strategy sees (contracts/neg_risk_sets.py judges the set)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from storage.dashboard_queries import market_queries
from storage.sqlite.db import Database


def market_event(db: Database, condition_id: str) -> dict[str, Any] | None:
    """The event of a market (title, augmented, members with role, question, whether the desk has
    it tradable, and its YES bid and ask when recorded), or None when none was read."""
    with db.read() as conn:
        event = conn.execute(text("""SELECT e.id, e.title, e.augmented FROM markets m
                                     JOIN market_events e ON e.id = m.event_id
                                     WHERE m.condition_id = :cid"""), {"cid": condition_id}).mappings().first()
        if event is None:
            return None
        members = [dict(r) for r in conn.execute(text(
            """SELECT em.condition_id, em.role, em.question, mk.yes_token,
                      COALESCE(mk.tradable = 1 AND mk.closed = 0, 0) AS tradable
               FROM event_members em LEFT JOIN markets mk ON mk.condition_id = em.condition_id
               WHERE em.event_id = :id ORDER BY em.rowid"""), {"id": event["id"]}).mappings()]
    for member in members:
        member["yes_bid"], member["yes_ask"] = _touch(db, member["yes_token"])
    return {"id": event["id"], "title": event["title"], "augmented": bool(event["augmented"]),
            "members": members}


def _touch(db: Database, token: str | None) -> tuple[float | None, float | None]:
    if token is None or (bounds := market_queries.tick_bounds(db, token)) is None:
        return None, None
    book = market_queries.latest_book(db, token, last_tick_at=bounds[1])
    if book is None:
        return None, None
    return (book.bids[0][0] if book.bids else None), (book.asks[0][0] if book.asks else None)
