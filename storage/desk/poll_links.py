"""Markets linked by hand to a race of the poll feed (`poll_links`): written by the operator's command,
each change audited in the same transaction; read by the poll source (engine/outside/polls.py), which
posts each linked market's fair value as an outside signal, and by the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from storage.desk.audit import write_audit
from storage.sqlite.db import Database, now_ms

MAX_TEXT = 200


class LinkRefused(ValueError):
    """A link the desk will not store (the message says why)."""


@dataclass(frozen=True, slots=True)
class PollLink:
    condition_id: str
    race: str
    option: str  # the option whose lead in the vote is the market's YES
    question: str
    created_at: int
    created_by: str


def add_link(db: Database, *, condition_id: str, race: str, option: str, actor: str) -> PollLink:
    for name, value in (("race", race), ("option", option)):
        if not value.strip() or len(value) > MAX_TEXT or not value.isprintable():
            raise LinkRefused(f"{name}: a text of at most {MAX_TEXT} printable characters, as the feed writes it")
    with db.write() as conn:
        market = conn.execute(text("SELECT question, closed, payout_yes FROM markets WHERE condition_id = :c"),
                              {"c": condition_id}).first()
        if market is None:
            raise LinkRefused(f"no market {condition_id[:80]!r} is known to the desk")
        if market[1] or market[2] is not None:
            raise LinkRefused("the market is closed or resolved: fair values are for open ones")
        taken = conn.execute(text("SELECT race, option FROM poll_links WHERE condition_id = :c"),
                             {"c": condition_id}).first()
        if taken is not None:
            raise LinkRefused(f"already linked to race {taken[0]!r} ({taken[1]}): unlink it first")
        at = now_ms()
        conn.execute(text("""INSERT INTO poll_links (condition_id, race, option, created_at, created_by)
                             VALUES (:c, :r, :o, :at, :by)"""),
                     {"c": condition_id, "r": race.strip(), "o": option.strip(), "at": at, "by": actor})
        write_audit(conn, actor=actor, action="poll_link.add", entity=f"poll_links:{condition_id}", before=None,
                    after={"race": race.strip(), "option": option.strip()})
    return PollLink(condition_id, race.strip(), option.strip(), str(market[0]), at, actor)


def remove_link(db: Database, condition_id: str, *, actor: str) -> bool:
    with db.write() as conn:
        gone = conn.execute(text("DELETE FROM poll_links WHERE condition_id = :c RETURNING race, option"),
                            {"c": condition_id}).first()
        if gone is None:
            return False
        write_audit(conn, actor=actor, action="poll_link.remove", entity=f"poll_links:{condition_id}",
                    before={"race": gone[0], "option": gone[1]}, after=None)
    return True


def list_links(db: Database) -> list[PollLink]:
    with db.read() as conn:
        rows = conn.execute(text("""SELECT l.condition_id, l.race, l.option, COALESCE(m.question, ''), l.created_at,
                                           l.created_by
                                    FROM poll_links l LEFT JOIN markets m ON m.condition_id = l.condition_id
                                    ORDER BY l.created_at""")).all()
    return [PollLink(r[0], r[1], r[2], r[3], int(r[4]), r[5]) for r in rows]
