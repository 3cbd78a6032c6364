"""Fair values from outside, stored with their provenance: the one writer of `signal_posts` and of
the `signals` rows of outside sources, whichever front end took the post (the HTTP process, the
CLI, the MCP server; each checks it first with contracts/outside_signals.py).

A post is stored in one transaction or not at all: its row in `signal_posts` (once per source and
nonce: a replay changes nothing), the market's signal from that source (newer than the one it
replaces, or refused as stale), and nothing else. The engine reads the signals as fair values
(engine/trading/hosting/views.py) unless the model-confidence breaker has benched their source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from contracts.outside_signals import PostRefused, Refusal, SignalPost
from storage.sqlite.db import Database

VIA = ("http", "cli", "mcp")


@dataclass(frozen=True, slots=True)
class Accepted:
    post_id: int
    replaced: int | None  # the source's fair value it replaced for the market, if any


def record_post(db: Database, post: SignalPost, *, via: str, actor: str, now: int) -> Accepted:
    """Store a checked post, or raise PostRefused (unknown market, replayed nonce, older than the
    source's last post for the market) with nothing changed."""
    assert via in VIA, via
    with db.write() as conn:
        market = conn.execute(text("SELECT closed, payout_yes FROM markets WHERE condition_id = :c"),
                              {"c": post.market}).first()
        if market is None:
            raise PostRefused(Refusal.UNKNOWN_MARKET, f"no market {post.market[:80]!r} is known to the desk")
        if market[0] or market[1] is not None:  # a value for a decided market would only game its calibration
            raise PostRefused(Refusal.MARKET_CLOSED, "the market is closed or resolved: fair values are for open ones")
        post_id = _insert_post(conn, post, via=via, actor=actor, now=now)  # a replay is refused here
        before = conn.execute(text("SELECT fair_value, posted_at FROM signals WHERE condition_id = :c AND source = :s"),
                              {"c": post.market, "s": post.source}).first()
        if before is not None and before[1] is not None and before[1] >= post.posted_at:
            raise PostRefused(Refusal.STALE, "older than (or as old as) this source's last post for the market")
        conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                                                  expires_at, detail, confidence, via, posted_at)
                             VALUES (:c, :s, :v, 1, :now, :by, :exp, :detail, :conf, :via, :posted)
                             ON CONFLICT (condition_id, source) DO UPDATE SET fair_value = excluded.fair_value,
                                 version = signals.version + 1, updated_at = excluded.updated_at,
                                 updated_by = excluded.updated_by, expires_at = excluded.expires_at,
                                 detail = excluded.detail, confidence = excluded.confidence, via = excluded.via,
                                 posted_at = excluded.posted_at"""),
                     {"c": post.market, "s": post.source, "v": post.fair_value, "now": now, "by": actor,
                      "exp": post.expires_at, "detail": post.detail, "conf": post.confidence, "via": via,
                      "posted": post.posted_at})
    return Accepted(post_id, None if before is None else int(before[0]))


def _insert_post(conn: Connection, post: SignalPost, *, via: str, actor: str, now: int) -> int:
    row = conn.execute(text("""INSERT INTO signal_posts (source, condition_id, fair_value, confidence, nonce, posted_at,
                                                         received_at, expires_at, via, actor, detail)
                               VALUES (:s, :c, :v, :conf, :nonce, :posted, :now, :exp, :via, :by, :detail)
                               ON CONFLICT (source, nonce) DO NOTHING RETURNING id"""),
                       {"s": post.source, "c": post.market, "v": post.fair_value, "conf": post.confidence,
                        "nonce": post.nonce, "posted": post.posted_at, "now": now, "exp": post.expires_at,
                        "via": via, "by": actor, "detail": post.detail}).first()
    if row is None:
        raise PostRefused(Refusal.REPLAYED, "this source already posted with this nonce: a replay is not taken")
    return int(row[0])


@dataclass(frozen=True, slots=True)
class SourceVerdict:
    source: str
    state: str
    brier: int | None
    markets: int
    judged_at: int
    reason: str | None


def source_verdicts(db: Database) -> list[SourceVerdict]:
    """The breaker's verdict on every source it has judged, benched first."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT source, state, brier, markets, judged_at, reason FROM signal_sources
                                    ORDER BY state = 'feeding', source""")).all()
    return [SourceVerdict(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]


def stored_signals(db: Database) -> list[dict[str, Any]]:
    """Every stored fair value with its provenance and its source's verdict, probabilities as floats."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT s.condition_id AS market, s.source, s.fair_value, s.confidence, s.via,
                                           s.updated_by AS by, s.posted_at, s.updated_at, s.expires_at, s.detail,
                                           COALESCE(v.state, 'feeding') AS source_state
                                    FROM signals s LEFT JOIN signal_sources v ON v.source = s.source
                                    ORDER BY s.condition_id, s.updated_at DESC""")).mappings().all()
    found = [dict(row) for row in rows]
    for row in found:
        row["fair_value"] = row["fair_value"] / 1e6
        row["confidence"] = None if row["confidence"] is None else row["confidence"] / 1e6
    return found
