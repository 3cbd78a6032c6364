"""The model-confidence breaker's SQL (engine/risk/source_breaker.py, the one writer of
`signal_sources`): what each outside source posted for markets that have resolved, the markets it
priced whose resolution is still to be read (engine/trading/settlement/posted_resolutions.py), and
its verdict."""

from __future__ import annotations

from sqlalchemy import Connection, text

MAX_POSTS = 500_000  # signal_posts kept, newest first: a source's calibration reads its last markets

# (source, condition_id, fair value posted, what one YES paid, when the market ended)
ScoredPost = tuple[str, str, int, int, int]


def resolved_posts(conn: Connection) -> list[ScoredPost]:
    """Every accepted outside post for a market with a resolution, oldest first."""
    rows = conn.execute(text("""SELECT p.source, p.condition_id, p.fair_value, m.payout_yes,
                                       COALESCE(m.end_at, m.updated_at)
                                FROM signal_posts p JOIN markets m ON m.condition_id = p.condition_id
                                WHERE m.payout_yes IS NOT NULL ORDER BY p.id""")).all()
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4] or 0)) for r in rows]


def unresolved_posted_markets(conn: Connection) -> list[str]:
    """The venue's markets some source posted a fair value for whose payouts are not recorded yet:
    what is asked of the venue so every market a source priced counts once it resolves."""
    rows = conn.execute(text("""SELECT m.condition_id FROM markets m
                                WHERE m.payout_yes IS NULL AND m.origin = 'venue'
                                  AND m.condition_id IN (SELECT DISTINCT condition_id FROM signal_posts)""")).all()
    return [str(r[0]) for r in rows]


def posting_sources(conn: Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute(text("SELECT DISTINCT source FROM signal_posts")).all()]


def states(conn: Connection) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in conn.execute(text("SELECT source, state FROM signal_sources")).all()}


def write_verdict(conn: Connection, *, source: str, state: str, brier: int | None, markets: int, now: int,
                  changed: bool, reason: str) -> None:
    conn.execute(text("""INSERT INTO signal_sources (source, state, brier, markets, judged_at, changed_at, reason)
                         VALUES (:s, :state, :b, :n, :now, :now, :reason)
                         ON CONFLICT (source) DO UPDATE SET state = excluded.state, brier = excluded.brier,
                             markets = excluded.markets, judged_at = excluded.judged_at, reason = excluded.reason,
                             changed_at = CASE WHEN :changed THEN excluded.changed_at
                                               ELSE signal_sources.changed_at END"""),
                 {"s": source, "state": state, "b": brier, "n": markets, "now": now, "reason": reason,
                  "changed": int(changed)})


def prune_posts(conn: Connection, keep: int = MAX_POSTS) -> int:
    return int(conn.execute(text("""DELETE FROM signal_posts WHERE id <= (SELECT id FROM signal_posts
                                    ORDER BY id DESC LIMIT 1 OFFSET :keep)"""), {"keep": keep}).rowcount)
