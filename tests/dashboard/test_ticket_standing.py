"""The ticket's standing orders on the Markets page (AppTest on a seeded database): an iceberg is
previewed (its slices) and placed as one place_order carrying its slice; one whose slice the market
refuses names it and posts nothing; a trailing stop shows where it starts and where it would sell
before it is placed; and the standing orders working in the market are listed, each cancelled by
its command."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import answer_next, engine_up
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC, YES_BTC
from tests.dashboard.test_ticket import _metrics, _place_orders, _ticket

M = 1_000_000


def _commands(db: Database, kind: str) -> list[dict]:
    with db.read() as conn:
        return [json.loads(p) for (p,) in conn.execute(text("SELECT payload FROM commands WHERE kind = :k"),
                                                       {"k": kind})]


def test_an_iceberg_is_previewed_with_its_slices_and_placed_once(seeded: int, db: Database,
                                                                 page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db)
    at.segmented_control(key="t_kind").set_value("Iceberg").run()
    at.number_input(key="t_size").set_value(30.0)
    at.number_input(key="t_slice").set_value(10.0)
    at.number_input(key="t_price").set_value(0.40)
    at.button(key="t_preview").click().run()
    assert not at.exception
    shown = _metrics(at)
    assert (shown["Whole (sh)"], shown["Shown at once (sh)"], shown["Slices"], shown["Price"]) == (
        "30.00", "10.00", "3", "0.400")
    assert _place_orders(db) == []
    engine_up(db)
    engine = answer_next(db, "place_order", ok=True, result='{"iceberg_id": 1, "orders": [{"id": 9}]}')
    at.button(key="t_confirm").click().run()
    engine.join(5)
    assert _place_orders(db) == [{"condition_id": BTC, "outcome": "YES", "side": "BUY", "tif": "GTC", "size": "30.0",
                                  "price": "0.4", "slice": "10.0", "post_only": False}]
    assert any("iceberg BUY YES in “Will Bitcoin reach $100k by June?”: done" in as_read(s.value) for s in at.success)


def test_an_iceberg_whose_slice_the_market_refuses_names_it_and_posts_nothing(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db)
    at.segmented_control(key="t_kind").set_value("Iceberg").run()
    at.number_input(key="t_size").set_value(30.0)
    at.number_input(key="t_slice").set_value(2.0)  # the market's minimum order is 5 shares
    at.button(key="t_preview").click().run()
    assert any("slice would be 2 shares, below the market's minimum order of 5" in as_read(e.value) for e in at.error)
    assert at.button(key="t_confirm").disabled and _place_orders(db) == []


def test_a_trailing_stop_shows_where_it_starts_and_sells_before_it_is_placed(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:  # the manual book holds 20 YES
        conn.execute(text("""INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled, pending,
                                 cost, realized, fees, updated_at)
                             VALUES ('paper', 'manual', :t, :c, 'YES', :s, 0, :cost, 0, 0, :now)"""),
                     {"t": YES_BTC, "c": BTC, "s": 20 * M, "cost": 9 * M, "now": now_ms()})
    at = _ticket(page, db)
    at.segmented_control(key="t_kind").set_value("Trailing stop").run()
    at.number_input(key="t_trail").set_value(0.05)
    at.number_input(key="t_floor").set_value(0.40)
    at.button(key="t_preview").click().run()
    assert not at.exception
    shown = _metrics(at)
    bid = float(shown["Best bid now"])
    assert float(shown["Sells at or below"]) == round(bid - 0.05, 3)
    assert shown["Floor"] == "0.400" and shown["Shares it sells"] == "20.00"
    engine_up(db)
    engine = answer_next(db, "place_order", ok=True, result='{"trailing_stop": 1}')
    at.button(key="t_confirm").click().run()
    engine.join(5)
    assert _place_orders(db) == [{"condition_id": BTC, "outcome": "YES", "side": "SELL", "trail": "0.05",
                                  "floor": "0.4"}]
    # Nothing held of NO: a trailing stop there is refused before anything is posted.
    at.segmented_control(key="t_outcome").set_value("NO").run()
    at.button(key="t_preview").click().run()
    assert any("holds no settled shares of this outcome" in as_read(e.value) for e in at.error)


def test_the_standing_orders_in_a_market_are_listed_and_cancelled(seeded: int, db: Database,
                                                                  page: Callable[[str], AppTest]) -> None:
    now = now_ms()
    with db.write() as conn:
        conn.execute(text("""INSERT INTO icebergs (venue, mode, strategy, condition_id, token_id, outcome, side, price,
                                 total, slice, status, created_at, created_by, updated_at)
                             VALUES ('polymarket', 'paper', 'manual', :c, :t, 'YES', 'BUY', 400000, :total, :slice,
                                     'ACTIVE', :now, 'operator', :now)"""),
                     {"c": BTC, "t": YES_BTC, "total": 30 * M, "slice": 10 * M, "now": now})
        for strategy in ("manual", "mm-btc"):
            conn.execute(text("""INSERT INTO trailing_stops (venue, mode, strategy, condition_id, token_id, outcome,
                                     distance, high_water, high_water_at, status, created_at, created_by, updated_at)
                                 VALUES ('polymarket', 'paper', :s, :c, :t, 'YES', 50000, 550000, :now, 'ACTIVE',
                                         :now, 'engine', :now)"""),
                         {"s": strategy, "c": BTC, "t": YES_BTC, "now": now})
    at = _ticket(page, db)
    lines = [as_read(m.value) for m in at.markdown]
    assert any("Iceberg #1: BUY YES at 0.400, 0.00 of 30.00 filled, 10.00 shown at a time" in line for line in lines)
    assert any("Trailing stop #1 (yours) on YES: high 0.550, sells at or below 0.500" in line for line in lines)
    assert any("Trailing stop #2 (strategy mm-btc's)" in line for line in lines)
    keys = {b.key for b in at.button}
    assert {"so_cancel_iceberg_1", "so_cancel_trail_1"} <= keys and "so_cancel_trail_2" not in keys
    engine_up(db)
    engine = answer_next(db, "cancel_iceberg", ok=True, result='{"iceberg_id": 1, "slice_cancelled": true}')
    at.button(key="so_cancel_iceberg_1").click().run()
    engine.join(5)
    assert _commands(db, "cancel_iceberg") == [{"iceberg_id": 1}]
