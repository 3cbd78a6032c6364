"""Every table that can hold a Kalshi row names each row's venue, and a Kalshi market by the title it
was paired under (it has no row in `markets`): round trips and their fills, the decisions log and
the markouts, beside the orders, fills and positions that keep their venue in the ledger."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import table_with

KALSHI_MARKET, KALSHI_TOKEN, TITLE = "kalshi:KXT-1", "kalshi:KXT-1:no", "Rain in Paris on Friday?"


def _kalshi_rows(db: Database) -> None:
    """A Kalshi pair, a fill on Kalshi's side of it, its markout, and a decision of the risk gate there."""
    now = now_ms()
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('xa', 'cross_venue_arb', '{}', '["0xpoly"]', 1, 0, 0, 't')"""))
        conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                 kalshi_title, warnings, created_at, created_by)
                             VALUES ('0xpoly', 'KXT-1', 0, 'Will it rain?', :title, '[]', 1, 't')"""),
                     {"title": TITLE})
        conn.execute(text("""INSERT INTO orders (id, client_id, venue_order_id, mode, strategy, condition_id,
                                 token_id, outcome, side, price, size, filled, tif, status, status_rank, created_at,
                                 updated_at, venue)
                             VALUES (1, 'k1', 'kv1', 'paper', 'xa', :c, :t, 'NO', 'BUY', 300000, 8000000, 8000000,
                                     'FAK', 'FILLED', 100, :at, :at, 'kalshi')"""),
                     {"c": KALSHI_MARKET, "t": KALSHI_TOKEN, "at": now - 61_000})
        conn.execute(text("""INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome,
                                 side, price, size, fee, liquidity, status, status_rank, matched_at, updated_at, venue)
                             VALUES ('k-1', 1, 'paper', 'xa', :c, :t, 'NO', 'BUY', 300000, 8000000, 150000,
                                     'TAKER', 'CONFIRMED', 4, :at, :at, 'kalshi')"""),
                     {"c": KALSHI_MARKET, "t": KALSHI_TOKEN, "at": now - 60_000})
        fill_id = conn.execute(text("SELECT id FROM fills WHERE trade_id = 'k-1'")).scalar_one()
        conn.execute(text("""INSERT INTO fill_markouts (fill_id, mode, strategy, condition_id, horizon, markout,
                                 notional, mid, computed_at)
                             VALUES (:f, 'paper', 'xa', :c, '1s', 20000, 2400000, 302500, :at)"""),
                     {"f": fill_id, "c": KALSHI_MARKET, "at": now - 59_000})
        conn.execute(text("""INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved,
                                 action, reason, detail) VALUES (:at, 'paper', 'xa', :c, 'BUY', 300000, 8000000, 0,
                                 'deny', 'MAX_MARKET_EXPOSURE', 'no room')"""),
                     {"c": KALSHI_MARKET, "at": now - 30_000})


def test_each_row_names_its_venue_and_a_kalshi_market_its_title(db: Database,
                                                                page: Callable[[str], AppTest]) -> None:
    _kalshi_rows(db)
    orders = page("orders")
    assert not orders.exception
    for columns in (("held", "exit"), ("side", "realized"), ("notional", "matched_at")):  # trips, their fills, fills
        row = table_with(orders, *columns).iloc[0]
        assert (row["venue"], row["question"]) == ("kalshi", TITLE), columns
    risk = page("risk")
    assert not risk.exception
    decision = table_with(risk, "approved", "detail").iloc[0]
    assert (decision["venue"], decision["question"]) == ("kalshi", TITLE)
    strategies = page("strategies")
    assert not strategies.exception
    markout = table_with(strategies, "usdc_1s", "market").iloc[0]
    assert (markout["venue"], markout["market"]) == ("kalshi", TITLE)
