"""Strategies page, a cross-venue arbitrage: its PnL per pair, both venues' legs side by side (issue 40,
item 6): the shares each venue holds, the pairs hedged, what they lock in after both legs' costs, the
realized PnL and fees of both legs."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with

MICRO = 1_000_000


def test_a_cross_venue_strategys_pnl_is_shown_per_pair(db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('xa', 'cross_venue_arb', '{}', :m, 1, 0, 0, 't')"""),
                     {"m": json.dumps(["0xpoly"])})
        conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                 kalshi_title, warnings, created_at, created_by)
                             VALUES ('0xpoly', 'KXT-1', 0, 'Will it rain?', 'Rain?', '[]', 1, 't')"""))
        # 10 YES here at 0.60 (6.00), 8 NO on Kalshi at 0.30 (2.40 + 0.15 fees): 8 pairs hedged.
        for venue, cid, token, outcome, shares, cost, fees in (
                ("polymarket", "0xpoly", "tok-yes", "YES", 10, 6.00, 0.05),
                ("kalshi", "kalshi:KXT-1", "kalshi:KXT-1:no", "NO", 8, 2.40, 0.15)):
            conn.execute(text("""INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled,
                                     pending, cost, realized, fees, updated_at, venue)
                                 VALUES ('paper', 'xa', :t, :c, :o, :s, 0, :cost, 0, :f, 0, :v)"""),
                         {"t": token, "c": cid, "o": outcome, "s": shares * MICRO, "cost": round(cost * MICRO),
                          "f": round(fees * MICRO), "v": venue})
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("xa").run()
    assert not at.exception
    pairs = table_with(at, "hedged")
    row = pairs.iloc[0]
    assert row["pair"] == "Will it rain?" and row["here"] == 10 and row["on_kalshi"] == 8 and row["hedged"] == 8
    # 8 pairs pay 8.00; they cost 8/10 of 6.00 here and all of 2.40 there.
    assert abs(row["locked_in"] - (8 - 4.80 - 2.40)) < 1e-6
    assert abs(row["fees"] - 0.20) < 1e-6
