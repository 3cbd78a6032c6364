"""Kalshi's shards on the Overview, from what the engine stored (engine_state.venue_funds): each shard's
money in Kalshi's live panel, a shard too short for the desk's quotes said in the status area and the panel,
and the offered move posted as the operator's `move_funds` command only once MOVE is typed."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import answer_next
from tests.dashboard.reading import as_read

WORDS = ("Kalshi shard 2 (crypto) holds $0.50; the desk's quotes there (KXTEST-1) need $11.20: they are held, not "
         "sent (Kalshi would refuse them insufficient_balance). To fund them, confirm a transfer of $10.70 from "
         "shard 0 (default) on the dashboard (Kalshi panel), or a target allocation 0: 98%, 2: 2%: the desk never "
         "moves money by itself.")


def _kalshi_live(db: Database) -> None:
    funds = {"read_ms": now_ms(), "total": 1_000_000_000,
             "shards": {"0": {"name": "default", "free": 600_000_000}, "1": {"name": "combos", "free": 399_500_000},
                        "2": {"name": "crypto", "free": 500_000}},
             "in_flight": [], "asked": [],
             "shortfalls": [{"shard": 2, "need": 11_200_000, "free": 500_000, "markets": ["KXTEST-1"], "source": 0,
                             "amount": 10_700_000, "allocation": {"0": 98, "2": 2}, "words": WORDS}]}
    with db.write() as conn:
        conn.execute(text("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]', live = 1 WHERE name = 'mm-btc'"""))
        conn.execute(text("UPDATE venue_modes SET mode = 'live' WHERE venue = 'kalshi'"))
        conn.execute(text("UPDATE engine_state SET venue_funds = :f"), {"f": json.dumps({"kalshi": funds})})


def test_a_short_shard_is_said_and_its_transfer_posted_only_once_move_is_typed(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    _kalshi_live(db)
    at = page("overview")
    assert not at.exception
    said = [as_read(w.value) for w in at.warning if as_read(w.value).startswith("Kalshi shard 2 (crypto) holds $0.50")]
    assert len(said) == 2, [w.value for w in at.warning]  # the status area's and Kalshi's panel's
    assert "a transfer of $10.70 from shard 0 (default)" in said[0]
    assert any("shard 2 (crypto) $0.50" in as_read(c.value) for c in at.caption)
    at.text_input(key="kalshi_move_word_2").input("move")  # (a form's field goes with its button's click)
    at.button[[b.label for b in at.button].index("Move the money")].click().run()
    assert any("type MOVE" in e.value for e in at.error)
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM commands WHERE kind = 'move_funds'")).scalar_one() == 0
    engine = answer_next(db, "move_funds", ok=True, result='{"moved": {"status": "accepted, not arrived"}}')
    at.text_input(key="kalshi_move_word_2").input("MOVE")
    at.button[[b.label for b in at.button].index("Move the money")].click().run()
    engine.join(15)
    assert not at.exception
    with db.read() as conn:
        posted = conn.execute(text("SELECT payload FROM commands WHERE kind = 'move_funds'")).scalars().all()
    assert [json.loads(p) for p in posted] == [{"venue": "kalshi", "source": 0, "destination": 2, "amount": "10.70",
                                                "reason": "funding a short Kalshi shard"}]
