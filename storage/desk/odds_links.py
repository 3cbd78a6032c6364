"""Sports markets linked by hand to an event of the bookmakers' odds feed (`odds_links`): written by
the operator's command, each change audited in the same transaction; read by the engine
(engine/feeds/odds_reference.py) and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from storage.desk.audit import write_audit
from storage.sqlite.db import Database, now_ms


class LinkRefused(ValueError):
    """A link the desk will not store (the message says why)."""


@dataclass(frozen=True, slots=True)
class OddsLink:
    condition_id: str
    event_id: str
    outcome: str
    question: str
    created_at: int
    created_by: str


def add_link(db: Database, *, condition_id: str, event_id: str, outcome: str, actor: str) -> OddsLink:
    with db.write() as conn:
        market = conn.execute(text("SELECT question FROM markets WHERE condition_id = :c"),
                              {"c": condition_id}).first()
        if market is None:
            raise LinkRefused(f"no market {condition_id[:80]!r} is known to the desk")
        taken = conn.execute(text("SELECT event_id, outcome FROM odds_links WHERE condition_id = :c"),
                             {"c": condition_id}).first()
        if taken is not None:
            raise LinkRefused(f"already linked to event {taken[0]} ({taken[1]}): unlink it first")
        at = now_ms()
        conn.execute(text("""INSERT INTO odds_links (condition_id, event_id, outcome, created_at, created_by)
                             VALUES (:c, :e, :o, :at, :by)"""),
                     {"c": condition_id, "e": event_id, "o": outcome, "at": at, "by": actor})
        write_audit(conn, actor=actor, action="odds_link.add", entity=f"odds_links:{condition_id}", before=None,
                    after={"event_id": event_id, "outcome": outcome})
    return OddsLink(condition_id, event_id, outcome, str(market[0]), at, actor)


def remove_link(db: Database, condition_id: str, *, actor: str) -> bool:
    with db.write() as conn:
        gone = conn.execute(text("DELETE FROM odds_links WHERE condition_id = :c RETURNING event_id, outcome"),
                            {"c": condition_id}).first()
        if gone is None:
            return False
        write_audit(conn, actor=actor, action="odds_link.remove", entity=f"odds_links:{condition_id}",
                    before={"event_id": gone[0], "outcome": gone[1]}, after=None)
    return True


def list_links(db: Database) -> list[OddsLink]:
    with db.read() as conn:
        rows = conn.execute(text("""SELECT l.condition_id, l.event_id, l.outcome, COALESCE(m.question, ''),
                                           l.created_at, l.created_by
                                    FROM odds_links l LEFT JOIN markets m ON m.condition_id = l.condition_id
                                    ORDER BY l.created_at""")).all()
    return [OddsLink(r[0], r[1], r[2], r[3], int(r[4]), r[5]) for r in rows]
