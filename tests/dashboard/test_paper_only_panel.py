"""The Strategies page says which strategies trade live and which are paper only, and promotes one
only with its name typed (refused in words otherwise), audited; back to paper is one click."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.reading import as_read


def _live(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT live FROM strategies WHERE name = 'mm-btc'")).scalar_one())


def test_promote_and_demote_from_the_page(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'"))
    at = page("strategies")
    assert table_with(at, "trades").set_index("name").loc["mm-btc", "trades"] == "paper only"
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    at.button(key="strategy_promote").click().run()
    assert any("type the strategy's name (mm-btc)" in as_read(e.value) for e in at.error) and _live(db) == 0
    at.text_input(key="strategy_promote_typed").input("mm-btc")
    at.button(key="strategy_promote").click().run()
    assert _live(db) == 1  # it has paper fills of its own
    at.run()
    at.button(key="strategy_demote").click().run()
    assert _live(db) == 0
    with db.read() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_log WHERE entity = 'strategy:mm-btc' ORDER BY id"))]
    assert actions[-2:] == ["strategy.promote", "strategy.demote"]
