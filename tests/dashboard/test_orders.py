"""Orders & trades: filters, pagination, cancel behind a confirmation, fills with their
settlement status, CSV export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from contracts.domain import fmt, to_micros
from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with, tables_of
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def orders(seeded: int, page: Callable[[str], AppTest]) -> AppTest:
    """The Orders page with every column of its orders and fills shown (the switch above each)."""
    at = page("orders")
    assert not at.exception
    at.toggle(key="cols_orders").set_value(True)
    at.toggle(key="cols_fills").set_value(True).run()
    return at


def test_the_tables_show_the_decision_columns_and_the_rest_on_demand(seeded: int,
                                                                    page: Callable[[str], AppTest]) -> None:
    at = page("orders")
    table = table_with(at, "trade", "created_at")
    assert list(table.columns) == ["question", "trade", "price", "size", "filled", "status", "ended", "strategy",
                                   "created_at", "venue"]
    assert table.set_index(table["trade"]).index.isin(["BUY YES", "SELL YES"]).all()
    at.toggle(key="cols_orders").set_value(True).run()
    every = table_with(at, "trade", "created_at")
    assert {"side", "outcome", "id", "mode", "tif", "reason", "error"} <= set(every.columns)
    at.toggle(key="cols_orders").set_value(False).run()
    assert "tif" not in table_with(at, "trade", "created_at").columns  # back to the decision columns

def test_orders_default_to_the_current_mode(orders: AppTest) -> None:
    table = table_with(orders, "tif")
    assert sorted(table["id"]) == [1, 2, 3, 4] and set(table["mode"]) == {"paper"}
    assert table.set_index("id").loc[1, "price"] == pytest.approx(0.48)
    assert table.set_index("id").loc[3, "filled"] == pytest.approx(20)
    orders.selectbox(key="tf_mode").set_value("live").run()
    assert list(table_with(orders, "tif")["id"]) == [5]


def test_order_filters(orders: AppTest) -> None:
    orders.toggle(key="orders_open_only").set_value(True).run()
    assert sorted(table_with(orders, "tif")["id"]) == [1, 2]
    orders.toggle(key="orders_open_only").set_value(False)
    orders.multiselect(key="orders_status").set_value(["CANCELED"]).run()
    assert list(table_with(orders, "tif")["id"]) == [4]
    orders.multiselect(key="orders_status").set_value([])
    orders.selectbox(key="tf_strategy").set_value("mm-btc").run()
    assert sorted(table_with(orders, "tif")["id"]) == [1, 2, 3]
    orders.selectbox(key="tf_market").set_value(BTC).run()
    assert sorted(table_with(orders, "tif")["id"]) == [1, 2, 3]


def test_status_filters_offer_the_engines_statuses_in_lifecycle_order(orders: AppTest) -> None:
    # In words a paper desk reads right: a resting order is not "LIVE" trading.
    working = ["SUBMITTING", "RESTING", "PARTLY FILLED", "CANCELING"]
    assert orders.multiselect(key="orders_status").options == [
        *working, "FILLED", "CANCELED", "REJECTED", "LOST"
    ]
    orders.multiselect(key="orders_status").set_value(["LIVE"]).run()
    assert set(table_with(orders, "tif")["status"]) == {"RESTING"}
    # pending, settled, reversed
    fills = ["MATCHED_NOT_BROADCASTED", "MATCHED", "RETRYING", "MINED", "CONFIRMED", "FAILED"]
    assert orders.multiselect(key="fills_status").options == fills


def test_date_range_in_utc(orders: AppTest) -> None:
    tomorrow = date.today() + timedelta(days=2)
    orders.date_input(key="tf_from").set_value(tomorrow).run()
    assert not [t for t in tables_of(orders) if "tif" in t.columns]
    assert any("0 orders match" in c.value for c in orders.caption)
    orders.date_input(key="tf_to").set_value(tomorrow - timedelta(days=5)).run()
    assert any("ends before it starts" in e.value for e in orders.error)


def test_fills_show_their_settlement_status(orders: AppTest) -> None:
    fills = table_with(orders, "liquidity")
    assert sorted(fills["status"]) == ["CONFIRMED", "MATCHED"]
    assert fills["notional"].iloc[0] == pytest.approx(4.7) and fills["fee"].iloc[0] == pytest.approx(0.01)
    orders.multiselect(key="fills_status").set_value(["MATCHED"]).run()
    assert list(table_with(orders, "liquidity")["status"]) == ["MATCHED"]


def test_cancel_needs_confirmation_and_posts_cancel_order(orders: AppTest, db: Database) -> None:
    orders.selectbox(key="cancel_pick").set_value(1)
    orders.button(key="cancel_open").click().run()
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]
    orders.button(key="cancel_order_confirm").click().run()
    assert _rows(db, "SELECT kind, payload FROM commands") == [("cancel_order", '{"order_id": 1}')]
    # A second order right after is its own command (it must not collapse into the first).
    orders.selectbox(key="cancel_pick").set_value(2)
    orders.button(key="cancel_open").click().run()
    orders.button(key="cancel_order_confirm").click().run()
    assert [p for (p,) in _rows(db, "SELECT payload FROM commands ORDER BY id")] == [
        '{"order_id": 1}',
        '{"order_id": 2}',
    ]


def test_keeping_the_order_posts_nothing(orders: AppTest, db: Database) -> None:
    orders.button(key="cancel_open").click().run()
    orders.button(key="cancel_order_back").click().run()
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]
    assert not [b for b in orders.button if b.key == "cancel_order_confirm"]


def test_pagination_keeps_pages_small(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(
            text("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side,
                                 price, size, tif, status, status_rank, created_at, updated_at)
                             WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n
                                                         WHERE value < 250)
                             SELECT 'bulk' || value, 'paper', 's', 'cid', 'tok', 'YES', 'BUY', 500000,
                                    1000000,
                                    'GTC', 'CANCELED', 100, value, value FROM n""")
        )
    at = page("orders")
    assert len(table_with(at, "trade", "created_at")) == 100
    pager = at.pagination(key="orders_page")
    assert pager.num_pages == 3
    pager.set_value(3).run()
    assert len(table_with(at, "trade", "created_at")) == 54  # 254 paper orders
    assert any("254 orders match · page 3" in c.value for c in at.caption)


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    """The data callables pages hand to st.download_button, by deferred file id. AppTest drops
    its runtime (and the registered callables) after each run, so they are recorded here."""
    found: dict[str, Callable[[], Any]] = {}
    real = MediaFileManager.add_deferred

    def record(self: MediaFileManager, data: Callable[[], Any], *args: Any, **kwargs: Any) -> str:
        file_id = real(self, data, *args, **kwargs)
        found[file_id] = data
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return found


def _exported(at: AppTest, exports: dict[str, Callable[[], Any]], key: str) -> list[dict[str, str]]:
    """What pressing the download button `key` would save, parsed as CSV."""
    data = exports[at.download_button(key=key).proto.deferred_file_id]()
    return list(csv.DictReader(io.StringIO(data.decode() if isinstance(data, bytes) else data)))


def test_csv_export(seeded: int, db: Database, exports: dict[str, Callable[[], Any]], orders: AppTest) -> None:
    assert {b.key for b in orders.download_button} >= {"orders_csv", "fills_csv"}
    orders.run()  # the page as the operator sees it (mode filter: paper)
    rows = _exported(orders, exports, "orders_csv")
    assert sorted(r["id"] for r in rows) == ["1", "2", "3", "4"]
    first = next(r for r in rows if r["id"] == "1")
    assert first["price"] == "0.48" and first["size"] == "10.0" and first["created_at"].endswith("Z")
    assert "tif" in first and "liquidity" not in first  # the orders export, not the fills one
    fills = _exported(orders, exports, "fills_csv")
    assert sorted(f["status"] for f in fills) == ["CONFIRMED", "MATCHED"] and "liquidity" in fills[0]
    # The export follows the filters on screen.
    orders.multiselect(key="orders_status").set_value(["CANCELED"])
    orders.multiselect(key="fills_status").set_value(["MATCHED"]).run()
    assert [r["id"] for r in _exported(orders, exports, "orders_csv")] == ["4"]
    assert [f["status"] for f in _exported(orders, exports, "fills_csv")] == ["MATCHED"]
    orders.multiselect(key="orders_status").set_value([])
    orders.selectbox(key="tf_mode").set_value("live").run()
    assert [(r["id"], r["mode"]) for r in _exported(orders, exports, "orders_csv")] == [("5", "live")]


def test_the_tax_lots_download_is_the_years_form_8949_csv(seeded: int, db: Database,
                                                           exports: dict[str, Callable[[], Any]],
                                                           page: Callable[[str], AppTest]) -> None:
    """The Orders page's tax export: live by default (the seeded live ledger has no fill: nothing to
    export); the paper ledger's year downloads the CSV `engine tax-lots` writes, here its two lots of the
    BTC market, which resolved YES."""
    from datetime import UTC, datetime

    with db.write() as conn:
        conn.execute(text("INSERT INTO resolutions (mode, venue, condition_id, payout_yes, payout_no, at) "
                          "VALUES ('paper', 'polymarket', :c, 1000000, 0, :at)"), {"c": BTC, "at": seeded})
    at = page("orders")
    assert any("No live fills yet" in c.value for c in at.caption)
    at.selectbox(key="tax_mode").set_value("paper").run()
    year = datetime.fromtimestamp(seeded / 1000, tz=UTC).year
    assert at.selectbox(key="tax_year").value == year
    rows = _exported(at, exports, "tax_csv")
    assert [(r["Proceeds"], r["Cost or other basis"], r["Gain or (loss)"], r["Disposition"]) for r in rows] == [
        ("10.00", "4.71", "5.29", "resolution (paid 1.00 a share)")] * 2
    assert rows[0]["Description of property"] == "10 YES shares: Will Bitcoin reach $100k by June? (Polymarket)"
    assert any("first in, first out" in c.value for c in at.caption)


def test_a_dialog_left_open_is_not_shown_on_another_page(orders: AppTest, db: Database) -> None:
    orders.button(key="cancel_open").click().run()
    orders.switch_page("pages/overview.py").run()
    assert not orders.exception
    assert not [b for b in orders.button if b.key == "cancel_order_confirm"]
    orders.switch_page("pages/orders.py").run()
    assert not [b for b in orders.button if b.key == "cancel_order_confirm"]
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]


def test_a_position_is_exited_from_the_orders_page_after_a_preview(orders: AppTest, db: Database) -> None:
    assert orders.selectbox(key="exit_pick_orders").options  # the seeded desk holds a position
    orders.button(key="exit_open_orders").click().run()
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]  # nothing before the confirmation
    preview = " ".join(m.value for m in orders.markdown)
    assert "sold at no less than" in preview and "mark less the max-slippage limit" in preview
    orders.button(key="exit_back").click().run()
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]
    orders.button(key="exit_open_orders").click().run()
    orders.button(key="exit_confirm").click().run()
    [(kind, payload)] = _rows(db, "SELECT kind, payload FROM commands")
    shown = re.search(r"sold at no less than \*\*([0-9.]+)\*\*", preview)
    assert shown is not None  # the floor the command carries is the one the preview showed (issue 87)
    floors = {f"{BTC}:YES": fmt(to_micros(shown[1]))}
    assert kind == "exit" and json.loads(payload) == {"strategy": "mm-btc", "condition_id": BTC, "outcome": "YES",
                                                      "ledger": "paper", "floors": floors,
                                                      "reason": "Exit button on the dashboard"}


def test_a_strategy_is_flattened_from_its_page(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    at.button(key="flatten_open_mm-btc").click().run()
    preview = " ".join(m.value for m in at.markdown)
    assert "**Flatten strategy mm\\-btc**" in preview  # escaped markdown
    at.button(key="exit_confirm").click().run()
    [(kind, payload)] = _rows(db, "SELECT kind, payload FROM commands")
    sent = json.loads(payload)
    assert kind == "exit" and {k: v for k, v in sent.items() if k != "floors"} == {
        "strategy": "mm-btc", "ledger": "paper", "reason": "Flatten strategy on the dashboard"}
    # A floor per position it showed with a price, each the one it showed (the engine never sells below them).
    shown = re.findall(r"sold at no less than \*\*([0-9.]+)\*\*", preview)
    assert shown and sorted(map(Decimal, sent["floors"].values())) == sorted(map(Decimal, shown))


def test_the_exit_answer_says_what_sold_and_why_anything_did_not(orders: AppTest, db: Database) -> None:
    from tests.dashboard.conftest import answer_next, engine_up

    engine_up(db)
    result = {"positions": [{"strategy": "mm-btc", "question": "Will Bitcoin reach $100k by June?", "outcome": "YES",
                             "held": "20", "sold": "12", "not_sold": "8 shares found no bid above the floor 0.45"}],
              "sold": "12"}
    answering = answer_next(db, "exit", ok=True, result=json.dumps(result))
    orders.button(key="exit_open_orders").click().run()
    orders.button(key="exit_confirm").click().run()
    answering.join(10)
    said = as_read(" ".join(w.value for w in orders.warning))  # amber: partly done, never a green "done"
    assert "partly done (command #" in said and "Remains: mm-btc Will Bitcoin reach $100k by June? YES: sold 12 " \
                                                "of 20; 8 shares found no bid above the floor 0.45" in said, said
    assert not any("Exit" in s.value for s in orders.success)


def test_an_exit_that_sold_everything_is_done_in_green(orders: AppTest, db: Database) -> None:
    from tests.dashboard.conftest import answer_next, engine_up

    engine_up(db)
    result = {"positions": [{"strategy": "mm-btc", "question": "Will Bitcoin reach $100k by June?", "outcome": "YES",
                             "held": "20", "sold": "20", "price": "0.45", "proceeds": "8.95", "fee": "0.05",
                             "realized_pnl": "-1.05"}], "sold": "20"}
    answering = answer_next(db, "exit", ok=True, result=json.dumps(result))
    orders.button(key="exit_open_orders").click().run()
    orders.button(key="exit_confirm").click().run()
    answering.join(10)
    said = as_read(" ".join(s.value for s in orders.success))
    assert ": done (command #" in said  # the sale as a trader reads a fill: price, proceeds, realized PnL
    assert ("sold 20 of 20 at 0.450 on average for 8.95 pUSD after a 0.05 pUSD fee; realized PnL -1.05 pUSD "
            "after fees" in said), said
    assert not any("partly done" in w.value for w in orders.warning)


def test_a_position_below_its_markets_minimum_is_shown_as_dust(orders: AppTest, db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET min_size = 50000000 WHERE condition_id = :c"), {"c": BTC})
    orders.run()
    positions = table_with(orders, "note")
    assert positions["note"].iloc[0].startswith("dust: below the market's minimum order of 50")


def test_round_trips_name_the_market_and_say_how_long_and_why(orders: AppTest) -> None:
    """The seeded paper fills: mm-btc bought 20 YES and holds them (an open trip, no exit yet)."""
    trips = table_with(orders, "exit")
    assert list(trips["exit"]) == ["open"] and list(trips["held"]) == ["—"]
    assert trips["question"].iloc[0].startswith("Will Bitcoin") and trips["bought"].iloc[0] == pytest.approx(20)
    (fills,) = [t for t in tables_of(orders) if {"realized", "side", "matched_at"} <= set(t.columns)]
    assert set(fills["side"]) == {"BUY"} and fills["realized"].isna().all()  # a buy realizes nothing


def test_a_kalshi_position_with_part_of_a_contract_is_labelled_a_fractional_residue(orders: AppTest,
                                                                                    db: Database) -> None:
    """Another trader filled half a contract of a Kalshi order: 3.5 YES held (3,500,000 micro-contracts),
    shown with its decimals and said to be a residue the desk sells where it can, else holds to settlement;
    a whole-contract Kalshi position beside it has no note."""
    with db.write() as conn:
        conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                 kalshi_title, warnings, created_at, created_by)
                             VALUES ('0xp', 'KXR-1', 0, 'Rain?', 'Rain in Paris on Friday?', '[]', 1, 't')"""))
        for token, size in (("kalshi:KXR-1:yes", 3_500_000), ("kalshi:KXR-1:no", 2_000_000)):
            conn.execute(text("""INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled,
                                     pending, cost, realized, fees, updated_at, venue)
                                 VALUES ('paper', 'xa', :t, 'kalshi:KXR-1', :o, :s, 0, 1000000, 0, 0, 1, 'kalshi')"""),
                         {"t": token, "o": token.rsplit(":", 1)[1].upper(), "s": size})
    orders.run()
    kalshi = table_with(orders, "note").query("venue == 'kalshi'").set_index("outcome")
    assert kalshi.loc["YES", "size"] == pytest.approx(3.5) and kalshi.loc["NO", "size"] == pytest.approx(2)
    note = kalshi.loc["YES", "note"]
    assert note.startswith("fractional residue: 0.5 of a contract") and "held to settlement" in note
    assert "sold with the rest where Kalshi bids" in note
    assert kalshi.loc["NO", "note"] == ""


def test_a_position_whose_market_the_desk_no_longer_knows_can_still_be_exited(orders: AppTest, db: Database) -> None:
    """A Kalshi position whose pair was removed has no question: the page names it by its id and
    offers its exit (it raised on the missing question)."""
    with db.write() as conn:
        conn.execute(text("""INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled,
                                 pending, cost, realized, fees, updated_at, venue)
                             VALUES ('paper', 'xa', 'kalshi:KXGONE-1:yes', 'kalshi:KXGONE-1', 'YES', 4000000, 0,
                                     1000000, 0, 0, 1, 'kalshi')"""))
    orders.run()
    assert not orders.exception
    labels = [box.options for box in orders.selectbox if box.label == "Position to exit"]
    assert labels and any("kalshi:KXGONE-1" in option for option in labels[0]), labels
