"""The demo strategy is seeded on a brand-new desk only, in one transaction with its audit row and
the request to run; a desk that has run, or has a strategy, is left as it is."""

from __future__ import annotations

import json

from sqlalchemy import text

from storage.research.seed_data import seed_running_strategy
from storage.sqlite.db import Database

PARAMS = {"size": 20}
MARKETS = {"filter": {"max_markets": 4}}


def _seed(db: Database, name: str = "demo") -> bool:
    return seed_running_strategy(db, name=name, kind="market_making", params=PARAMS, markets=MARKETS, now=1_000,
                                 actor="setup")


def test_a_new_desk_gets_the_strategy_enabled_audited_and_the_engine_asked_to_run(db: Database) -> None:
    assert _seed(db) is True
    with db.read() as conn:
        row = conn.execute(text("SELECT kind, params, markets, enabled, version, updated_by FROM strategies")).one()
        desired = conn.execute(text("SELECT desired_state FROM engine_state WHERE id = 1")).scalar_one()
        audit = conn.execute(text("SELECT actor, action, entity FROM audit_log")).all()
    assert (row.kind, json.loads(row.params), json.loads(row.markets)) == ("market_making", PARAMS, MARKETS)
    assert (row.enabled, row.version, row.updated_by) == (1, 1, "setup")
    assert desired == "RUNNING"
    assert [tuple(a) for a in audit] == [("setup", "strategy.create", "strategy:demo")]


def test_a_desk_with_a_strategy_or_that_has_run_is_left_alone(db: Database) -> None:
    assert _seed(db) is True
    assert _seed(db, "another") is False  # a strategy exists
    with db.write() as conn:
        conn.execute(text("DELETE FROM strategies"))
        conn.execute(text("UPDATE engine_state SET started_at = 5, desired_state = 'STOPPED' WHERE id = 1"))
    assert _seed(db, "third") is False  # the engine has run
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM strategies")).scalar_one() == 0
        assert conn.execute(text("SELECT desired_state FROM engine_state WHERE id = 1")).scalar_one() == "STOPPED"
