"""Pairs suggested across venues: what the desk watches, the Kalshi listing a refresh compared it with,
each refresh's run, the suggestions found and the trader's rejections.

Two writers. The refresh (`python -m engine pairs suggest --refresh`, engine/cli/pair_suggest.py, a job
the trader starts from the CLI or the Markets page) writes the listing it read, its run and what it
found (`keep_listing`, `start_run`, `store_found`, `finish_run`, `fail_run`): work, not configuration, so
neither audited nor role-checked. The trader's decision on a suggestion is configuration: a link goes
through storage/desk/venue_pairs.py's `add_pair` (audited `pair.add`, its role check) and nothing here;
a rejection is `reject` below (audited `pair.reject`, the same role check as a link: an operator of both
venues), and a rejected suggestion is kept so no refresh offers it again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from contracts.jsonsafe import read_stored
from contracts.roles import Scope
from contracts.venues import KALSHI, POLYMARKET
from contracts.venues.kalshi import ids as kalshi_ids
from storage.desk.audit import write_audit
from storage.sqlite.db import Database, now_ms

RUN_STALE_MS = 15 * 60_000  # a run "running" longer than this died without a word: another may start


class SuggestionRefused(ValueError):
    """A decision the desk will not store (the message says why)."""


@dataclass(frozen=True)
class Market:
    """One market as a suggestion reads it: its id on its venue (a condition id, or a Kalshi ticker), its
    question or title, its end or close time (ms, None unknown)."""

    market: str
    text: str
    close_ms: int | None


@dataclass(frozen=True)
class Watched:
    polymarket: list[Market]
    kalshi: list[str]  # tickers named by strategies, not paired yet (their titles are read from Kalshi)


@dataclass(frozen=True)
class Found:
    """A suggestion as a refresh found it: the two markets, which side the desk watched, the score and its
    parts (JSON-able)."""

    polymarket: Market
    kalshi: Market
    watched: str  # 'polymarket' or 'kalshi'
    score: int
    parts: dict[str, Any]


@dataclass(frozen=True)
class Suggestion:
    id: int
    condition_id: str
    kalshi_ticker: str
    watched: str
    polymarket_question: str
    kalshi_title: str
    polymarket_end_at: int | None
    kalshi_close_at: int | None
    score: int
    parts: dict[str, Any]
    status: str
    found_at: int
    updated_at: int


@dataclass(frozen=True)
class Run:
    id: int
    started_at: int
    started_by: str
    finished_at: int | None
    status: str
    watched: int
    listed: int
    listing_read_at: int | None
    pages: int
    found: int
    detail: str | None


# -- what the desk watches --------------------------------------------------------------------------


def watched_markets(db: Database, *, listed_most: int) -> Watched:
    """The markets the desk watches that no pair links yet: those its strategies name (Polymarket ones
    known to the desk, Kalshi tickers), then its own open listed markets, the most traded first, up to
    `listed_most` in all on Polymarket's side."""
    with db.read() as conn:
        paired = _paired(conn)
        named: list[str] = []
        for (raw,) in conn.execute(text("SELECT markets FROM strategies WHERE deleted_at IS NULL ORDER BY name")):
            value, problem = read_stored(raw, what="stored markets")
            if not problem and isinstance(value, list):
                named += [m.strip() for m in value if isinstance(m, str) and m.strip()]
        kalshi = [kalshi_ids.ticker_of(m) for m in dict.fromkeys(named) if m.startswith(kalshi_ids.PREFIX)]
        polymarket = [m for m in dict.fromkeys(named) if m.startswith("0x") and m not in paired]
        known = {r[0]: Market(r[0], r[1], r[2]) for r in conn.execute(
            text(f"""SELECT condition_id, question, end_at FROM markets WHERE {_OPEN}
                     AND condition_id IN (SELECT value FROM json_each(:ids))"""), {"ids": json.dumps(polymarket)})}
        chosen = [known[m] for m in polymarket if m in known][:listed_most]
        taken = {m.market for m in chosen} | paired
        for cid, question, end_at in conn.execute(text(f"""SELECT condition_id, question, end_at FROM markets
                                                            WHERE {_OPEN} ORDER BY volume_24h DESC, volume DESC,
                                                            condition_id LIMIT :n"""),
                                                  {"n": listed_most + len(taken)}):
            if len(chosen) >= listed_most:
                break
            if cid not in taken:
                chosen.append(Market(cid, question, end_at))
    return Watched(chosen, [t for t in dict.fromkeys(kalshi) if t not in paired])


_OPEN = ("closed = 0 AND resolved_outcome IS NULL AND origin = 'venue' AND condition_id LIKE '0x%'")


def polymarket_candidates(db: Database) -> list[Market]:
    """The desk's open Polymarket markets no pair links: what a watched Kalshi market is compared with."""
    with db.read() as conn:
        paired = _paired(conn)
        rows = conn.execute(text(f"SELECT condition_id, question, end_at FROM markets WHERE {_OPEN}")).all()
    return [Market(r[0], r[1], r[2]) for r in rows if r[0] not in paired]


def paired_sides(db: Database) -> set[str]:
    """Both sides of every pair: neither is suggested again."""
    with db.read() as conn:
        return _paired(conn)


def _paired(conn: Connection) -> set[str]:
    """Both sides of every pair (a condition id, a Kalshi ticker)."""
    return {side for row in conn.execute(text("SELECT condition_id, kalshi_ticker FROM venue_pairs")) for side in row}


# -- Kalshi's listing, as last read -------------------------------------------------------------------


def cached_listing(db: Database) -> tuple[int | None, list[Market]]:
    """When Kalshi's open binary markets were last read (None: never), and them."""
    with db.read() as conn:
        rows = conn.execute(text("SELECT ticker, title, close_at, read_at FROM kalshi_listing ORDER BY ticker")).all()
    return (min(r[3] for r in rows) if rows else None), [Market(r[0], r[1], r[2]) for r in rows]


def keep_listing(db: Database, markets: Sequence[Market], read_at: int) -> None:
    """The listing just read, in place of the last (one transaction)."""
    with db.write() as conn:
        conn.execute(text("DELETE FROM kalshi_listing"))
        if markets:
            conn.execute(text("INSERT OR REPLACE INTO kalshi_listing (ticker, title, close_at, read_at) "
                              "VALUES (:t, :title, :c, :at)"),
                         [{"t": m.market, "title": m.text, "c": m.close_ms, "at": read_at} for m in markets])


# -- runs -----------------------------------------------------------------------------------------------


def start_run(db: Database, actor: str) -> int:
    """A refresh's run row; SuggestionRefused while another runs (started less than RUN_STALE_MS ago)."""
    at = now_ms()
    with db.write() as conn:
        running = conn.execute(text("""SELECT id, started_at FROM pair_suggestion_runs WHERE status = 'running'
                                       AND started_at > :since ORDER BY id DESC LIMIT 1"""),
                               {"since": at - RUN_STALE_MS}).first()
        if running is not None:
            raise SuggestionRefused(f"a refresh of the suggestions is already running (run {running[0]}): wait for "
                                    "it to end")
        conn.execute(text("""UPDATE pair_suggestion_runs SET status = 'failed', finished_at = :at,
                                 detail = 'ended without a word (its process stopped)' WHERE status = 'running'"""),
                     {"at": at})
        return int(conn.execute(text("""INSERT INTO pair_suggestion_runs (started_at, started_by, status, detail)
                                        VALUES (:at, :by, 'running', 'starting') RETURNING id"""),
                                {"at": at, "by": actor}).scalar_one())


def progress(db: Database, run_id: int, detail: str, *, pages: int = 0) -> None:
    with db.write(synced=False) as conn:
        conn.execute(text("UPDATE pair_suggestion_runs SET detail = :d, pages = :p WHERE id = :id"),
                     {"d": detail, "p": pages, "id": run_id})


def finish_run(db: Database, run_id: int, *, watched: int, listed: int, listing_read_at: int | None, pages: int,
               found: int) -> None:
    with db.write() as conn:
        conn.execute(text("""UPDATE pair_suggestion_runs SET status = 'done', finished_at = :at, watched = :w,
                                 listed = :l, listing_read_at = :r, pages = :p, found = :f, detail = NULL
                             WHERE id = :id"""),
                     {"at": now_ms(), "w": watched, "l": listed, "r": listing_read_at, "p": pages, "f": found,
                      "id": run_id})


def fail_run(db: Database, run_id: int, why: str) -> None:
    with db.write() as conn:
        conn.execute(text("""UPDATE pair_suggestion_runs SET status = 'failed', finished_at = :at, detail = :d
                             WHERE id = :id"""), {"at": now_ms(), "d": why[:500], "id": run_id})


def last_run(db: Database) -> Run | None:
    with db.read() as conn:
        row = conn.execute(text("""SELECT id, started_at, started_by, finished_at, status, watched, listed,
                                          listing_read_at, pages, found, detail
                                   FROM pair_suggestion_runs ORDER BY id DESC LIMIT 1""")).first()
    return None if row is None else Run(*row)


# -- suggestions ----------------------------------------------------------------------------------------


def store_found(db: Database, found: Sequence[Found]) -> None:
    """What a refresh found, in place of the open suggestions it found before (one transaction): a
    suggestion found again keeps its id and first finding, one no longer found goes, and a rejected
    one is never offered again (its row stays rejected, whatever the refresh scored)."""
    at = now_ms()
    with db.write() as conn:
        for one in found:
            conn.execute(text("""INSERT INTO pair_suggestions (condition_id, kalshi_ticker, watched,
                                     polymarket_question, kalshi_title, polymarket_end_at, kalshi_close_at, score,
                                     parts, status, found_at, updated_at)
                                 VALUES (:c, :k, :w, :q, :t, :pe, :kc, :s, :parts, 'open', :at, :at)
                                 ON CONFLICT (condition_id, kalshi_ticker) DO UPDATE SET watched = :w,
                                     polymarket_question = :q, kalshi_title = :t, polymarket_end_at = :pe,
                                     kalshi_close_at = :kc, score = :s, parts = :parts, updated_at = :at
                                 WHERE pair_suggestions.status = 'open'"""),
                         {"c": one.polymarket.market, "k": one.kalshi.market, "w": one.watched,
                          "q": one.polymarket.text, "t": one.kalshi.text, "pe": one.polymarket.close_ms,
                          "kc": one.kalshi.close_ms, "s": one.score, "parts": json.dumps(one.parts, sort_keys=True),
                          "at": at})
        kept = json.dumps([[one.polymarket.market, one.kalshi.market] for one in found])
        conn.execute(text("""DELETE FROM pair_suggestions WHERE status = 'open' AND NOT EXISTS (
                                 SELECT 1 FROM json_each(:kept) k WHERE k.value ->> 0 = condition_id
                                 AND k.value ->> 1 = kalshi_ticker)"""), {"kept": kept})


def open_suggestions(db: Database) -> list[Suggestion]:
    """The suggestions to confirm or reject, the best first: open, and neither market paired since."""
    with db.read() as conn:
        paired = _paired(conn)
        rows = _rows(conn, "WHERE status = 'open' ORDER BY score DESC, id", {})
    return [s for s in rows if s.condition_id not in paired and s.kalshi_ticker not in paired]


def suggestion(db: Database, suggestion_id: int) -> Suggestion | None:
    with db.read() as conn:
        found = _rows(conn, "WHERE id = :id", {"id": suggestion_id})
    return found[0] if found else None


def rejected(db: Database) -> list[Suggestion]:
    with db.read() as conn:
        return _rows(conn, "WHERE status = 'rejected' ORDER BY decided_at DESC, id DESC", {})


def reject(db: Database, suggestion_id: int, *, actor: str) -> Suggestion:
    """Not the same question: never offered again (audited `pair.reject`). Refused for a suggestion gone
    (a refresh dropped it) or decided already. The same role check as a link: an operator of both venues."""
    db.require("rejecting a suggested pair", Scope.VENUE, {POLYMARKET, KALSHI})
    with db.write() as conn:
        found = _rows(conn, "WHERE id = :id", {"id": suggestion_id})
        if not found:
            raise SuggestionRefused(f"no suggestion {suggestion_id} (a refresh may have dropped it: "
                                    "python -m engine pairs suggest lists them)")
        if found[0].status != "open":
            raise SuggestionRefused(f"suggestion {suggestion_id} was already {found[0].status}")
        conn.execute(text("""UPDATE pair_suggestions SET status = 'rejected', decided_at = :at, decided_by = :by
                             WHERE id = :id"""), {"at": now_ms(), "by": actor, "id": suggestion_id})
        write_audit(conn, actor=actor, action="pair.reject", entity=f"pair_suggestions:{suggestion_id}", before=None,
                    after={"condition_id": found[0].condition_id, "kalshi_ticker": found[0].kalshi_ticker,
                           "score": found[0].score})
    return found[0]


def _rows(conn: Connection, where: str, params: dict[str, object]) -> list[Suggestion]:
    rows = conn.execute(text(f"""SELECT id, condition_id, kalshi_ticker, watched, polymarket_question, kalshi_title,
                                        polymarket_end_at, kalshi_close_at, score, parts, status, found_at,
                                        updated_at FROM pair_suggestions {where}"""), params).all()
    out = []
    for r in rows:
        parts, problem = read_stored(r[9], what="its score's parts")
        out.append(Suggestion(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                              parts if isinstance(parts, dict) and not problem else {}, r[10], r[11], r[12]))
    return out
