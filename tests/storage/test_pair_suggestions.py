"""Pairs suggested across venues, as stored (storage/desk/pair_suggestions.py) on a real SQLite file: what
the desk watches (its strategies' markets, then its most traded open ones; never a paired one); a refresh's
findings replacing the last; a rejected suggestion never offered again; a pair linked since hides its
suggestion; a rejection is audited and refused to whoever may not link a pair; one refresh at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.roles import Access, AccessRefused, Role
from storage.desk import pair_suggestions as store
from storage.desk.pair_suggestions import Found, Market
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

A, B, C = "0x" + "a" * 64, "0x" + "b" * 64, "0x" + "c" * 64


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    migrate(tmp_path / "s.db")
    database = Database(tmp_path / "s.db")
    with database.write() as conn:
        for n, (cid, question, volume) in enumerate(((A, "Will A happen?", 10), (B, "Will B happen?", 30),
                                                      (C, "Will C happen?", 20))):
            conn.execute(text("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size,
                                     end_at, volume_24h, first_seen_at, updated_at)
                                 VALUES (:c, :q, :y, :n, 10000, 5000000, 1000, :v, 0, 0)"""),
                         {"c": cid, "q": question, "y": f"y{n}", "n": f"n{n}", "v": volume})
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at,
                                 updated_at, updated_by) VALUES ('mm', 'market_making', '{}', :m, 1, 1, 0, 0, 't')"""),
                     {"m": json.dumps([A, "kalshi:KXONE-1"])})
    yield database
    database.dispose()


def _found(cid: str, ticker: str, score: int = 80) -> Found:
    return Found(Market(cid, f"question {cid[:4]}", 1_000), Market(ticker, f"title {ticker}", 2_000), "polymarket",
                 score, {"parts": {"wording": score}, "said": {"wording": f"{score} % alike"}})


def _audit(db: Database, action: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT actor, entity, after FROM audit_log WHERE action = :a"),
                                               {"a": action})]


def test_the_desk_watches_its_strategies_markets_first_then_its_most_traded_never_a_paired_one(db: Database) -> None:
    watched = store.watched_markets(db, listed_most=2)
    assert [m.market for m in watched.polymarket] == [A, B] and watched.kalshi == ["KXONE-1"]  # A named, B traded
    add_pair(db, condition_id=A, kalshi_ticker="KXONE-1", inverted=False, polymarket_question="Will A happen?",
             kalshi_title="A?", warnings=[], actor="t")
    watched = store.watched_markets(db, listed_most=2)
    assert [m.market for m in watched.polymarket] == [B, C] and watched.kalshi == []
    assert {m.market for m in store.polymarket_candidates(db)} == {B, C}


def test_a_refresh_replaces_what_it_found_and_a_rejected_suggestion_is_never_offered_again(db: Database) -> None:
    store.store_found(db, [_found(A, "KX-1"), _found(B, "KX-2", 70)])
    first = store.open_suggestions(db)
    assert [(s.condition_id, s.kalshi_ticker, s.score) for s in first] == [(A, "KX-1", 80), (B, "KX-2", 70)]
    assert first[0].parts["said"] == {"wording": "80 % alike"}
    rejected = store.reject(db, first[1].id, actor="dashboard:olive")
    assert rejected.kalshi_ticker == "KX-2" and [s.kalshi_ticker for s in store.open_suggestions(db)] == ["KX-1"]
    assert _audit(db, "pair.reject") == [("dashboard:olive", f"pair_suggestions:{first[1].id}",
                                          json.dumps({"condition_id": B, "kalshi_ticker": "KX-2", "score": 70}))]
    store.store_found(db, [_found(A, "KX-1", 90), _found(B, "KX-2", 99), _found(C, "KX-3")])  # found again, all
    again = store.open_suggestions(db)
    assert [(s.kalshi_ticker, s.score) for s in again] == [("KX-1", 90), ("KX-3", 80)]  # KX-2 stays rejected
    assert again[0].id == first[0].id  # found again: the same suggestion, its score now
    assert [s.kalshi_ticker for s in store.rejected(db)] == ["KX-2"]
    store.store_found(db, [_found(C, "KX-3")])  # no longer found: gone; rejected: kept
    assert [s.kalshi_ticker for s in store.open_suggestions(db)] == ["KX-3"]
    with pytest.raises(store.SuggestionRefused, match="already rejected"):
        store.reject(db, first[1].id, actor="t")


def test_a_pair_linked_since_hides_its_suggestions(db: Database) -> None:
    store.store_found(db, [_found(A, "KX-1"), _found(A, "KX-9", 65), _found(B, "KX-2")])
    add_pair(db, condition_id=A, kalshi_ticker="KX-1", inverted=False, polymarket_question="A", kalshi_title="A",
             warnings=[], actor="t")
    assert [s.kalshi_ticker for s in store.open_suggestions(db)] == ["KX-2"]


def test_rejecting_is_for_who_may_link_a_pair(db: Database) -> None:
    store.store_found(db, [_found(A, "KX-1")])
    (one,) = store.open_suggestions(db)
    for access in (Access("vic", Role.VIEWER, "dashboard:vic"),
                   Access("kim", Role.OPERATOR, "dashboard:kim", "kalshi")):
        with pytest.raises(AccessRefused, match="Rejecting a suggested pair was refused"):
            store.reject(db.acting_as(access), one.id, actor=access.actor)
    assert store.open_suggestions(db) and _audit(db, "pair.reject") == []
    store.reject(db.acting_as(Access("olive", Role.OPERATOR, "dashboard:olive")), one.id, actor="dashboard:olive")
    assert store.open_suggestions(db) == []


def test_one_refresh_at_a_time_and_a_dead_one_does_not_block_the_next(db: Database) -> None:
    run = store.start_run(db, "cli:me")
    with pytest.raises(store.SuggestionRefused, match="already running"):
        store.start_run(db, "cli:me")
    store.progress(db, run, "reading", pages=2)
    store.finish_run(db, run, watched=3, listed=7, listing_read_at=5, pages=2, found=1)
    done = store.last_run(db)
    assert done is not None and (done.status, done.watched, done.listed, done.pages, done.found) == ("done", 3, 7, 2, 1)
    dead = store.start_run(db, "cli:me")
    with db.write() as conn:  # its process died long ago
        conn.execute(text("UPDATE pair_suggestion_runs SET started_at = 1 WHERE id = :id"), {"id": dead})
    store.start_run(db, "cli:me")
    with db.read() as conn:
        assert conn.execute(text("SELECT status FROM pair_suggestion_runs WHERE id = :id"), {"id": dead}).scalar() \
            == "failed"


def test_the_kept_listing_says_when_it_was_read(db: Database) -> None:
    assert store.cached_listing(db) == (None, [])
    store.keep_listing(db, [Market("KX-1", "one?", 9), Market("KX-2", "two?", None)], 1_234)
    store.keep_listing(db, [Market("KX-3", "three?", 5)], 5_678)  # in place of the last
    assert store.cached_listing(db) == (5_678, [Market("KX-3", "three?", 5)])
