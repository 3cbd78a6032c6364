"""A market only an imported session file knows lives apart from the live desk: the catalog does
not load it (so no strategy selects it, whatever its row claims), until the venue's own discovery
lists that market, whose row then is the venue's and loads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.feeds.catalog import MarketCatalog
from engine.venues.polymarket.discovery import market_row
from engine.venues.polymarket.parse_markets import gamma_market
from storage.engine_stores import catalog_store
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

CID, YES, NO = "0x" + "ab" * 32, "1" * 40, "2" * 40


def test_an_imported_market_loads_only_once_the_venue_lists_it(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrate(path)
    with sqlite3.connect(path) as conn:
        conn.execute("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size, liquidity,
                            origin, first_seen_at, updated_at) VALUES (?, 'Imported?', ?, ?, 10000, 5000000, 0,
                            'imported', 0, 0)""", (CID, YES, NO))
    db = Database(path)
    catalog = MarketCatalog()
    assert catalog.load(db) == 0 and catalog.get(CID) is None and catalog.by_token(YES) is None
    listed = gamma_market({"conditionId": CID, "question": "Listed?", "clobTokenIds": f'["{YES}", "{NO}"]',
                           "outcomes": '["Yes", "No"]', "liquidity": "1000"})
    assert listed is not None
    catalog_store.upsert_markets(db, [market_row(listed, now_ms())])
    assert catalog.load(db) == 1 and catalog.get(CID) is not None and catalog.get(CID).question == "Listed?"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT origin FROM markets").fetchall() == [("venue",)]
    db.dispose()
