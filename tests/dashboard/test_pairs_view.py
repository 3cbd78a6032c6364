"""The Markets page lists the markets paired with Kalshi by hand: the Polymarket market by its
question, the Kalshi market, which Kalshi side is its YES, and the differences noted when linked."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.seed import BTC


def test_the_markets_page_lists_the_pairs_with_their_warnings(seeded: int, db: Database,
                                                              page: Callable[[str], AppTest]) -> None:
    at = page("markets")
    assert not at.exception
    assert any("No market is paired with Kalshi" in c.value for c in at.caption)
    add_pair(db, condition_id=BTC, kalshi_ticker="KXBTC-26DEC31-T100000", inverted=True,
             polymarket_question="as linked", kalshi_title="Bitcoin above $100k?",
             warnings=["end times differ by 3.0 days"], actor="cli:trader")
    at = page("markets")
    assert not at.exception
    row = table_with(at, "kalshi_ticker").iloc[0]  # an HTML table: its long warnings wrap, nothing cut off
    assert (row["kalshi_ticker"], row["kalshi_side"], row["created_by"]) == ("KXBTC-26DEC31-T100000", "NO",
                                                                              "cli:trader")
    assert row["question"] != "as linked"  # the desk's own name of the market
    assert row["warnings"] == "end times differ by 3.0 days"
    assert any("1 market(s) paired with Kalshi" in c.value for c in at.caption)
