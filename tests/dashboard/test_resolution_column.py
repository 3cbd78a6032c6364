"""Positions show where their market's resolution stands on the venue, and the page warns when
one is in a market whose resolution is proposed or disputed (the desk adds nothing there)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC


def test_a_position_in_a_proposed_market_says_so(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    before = page("overview")
    assert "resolution" not in table_with(before, "avg_price").columns  # a detail while nothing resolves
    before.toggle(key="cols_positions_all").set_value(True).run()
    assert list(table_with(before, "avg_price")["resolution"]) == [""]  # there on demand
    assert not any("resolution the venue reports" in as_read(w.value) for w in before.warning)
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET resolution_status = 'proposed' WHERE condition_id = :c"), {"c": BTC})
    at = page("overview")
    assert list(table_with(at, "avg_price")["resolution"]) == ["proposed"]  # among the first now
    assert any("1 position is in a market whose resolution the venue reports under way" in as_read(w.value)
               for w in at.warning)
