"""Strategies saved that cannot trade are said so before saving (issue 87, item 5), as a picked market's minimum
already was: a filter whose markets need more shares than the order size; a Kalshi strategy whose orders are
worth less than the min order value; an ensemble needing more fair-value sources than price its markets. And a
new strategy's order size starts at one that trades where the desk trades (15 where most markets need 15)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC, ELECTION

NEW = "➕ New strategy"


def _params(db: Database, name: str) -> dict | None:
    with db.read() as conn:
        raw = conn.execute(text("SELECT params FROM strategies WHERE name = :n"), {"n": name}).scalar()
    return None if raw is None else json.loads(raw)


def _saved(db: Database, name: str) -> dict:
    params = _params(db, name)
    assert params is not None, f"strategy {name!r} was not saved"
    return params


@pytest.fixture
def strategies(seeded: int, page: Callable[[str], AppTest]) -> AppTest:
    at = page("strategies")
    assert not at.exception
    return at


def _new(at: AppTest, kind: str, name: str) -> str:
    at.selectbox(key="strategy_pick").set_value(NEW).run()
    at.selectbox(key="strategy_new_kind").set_value(kind).run()
    at.text_input(key="strategy_new_name").input(name)
    return f"strategy_new_{kind}"


def _warned(at: AppTest) -> str:
    return " ".join(as_read(w.value) for w in at.warning)


def test_a_filter_whose_markets_need_more_shares_is_warned_before_saving(strategies: AppTest, db: Database) -> None:
    with db.write() as conn:  # the filter below picks the election market; it needs 15 shares an order
        conn.execute(text("UPDATE markets SET min_size = 15000000 WHERE condition_id = :c"), {"c": ELECTION})
    at = strategies
    prefix = _new(at, "market_making", "mm-filter")
    at.segmented_control(key=f"{prefix}_mkmode").set_value("Filter").run()
    at.text_input(key="strategy_new_name").input("mm-filter")
    at.text_input(key=f"{prefix}_f_text").input("election")
    at.text_input(key=f"{prefix}_p_size").input("10")
    at.button(key=f"{prefix}_save").click().run()
    said = _warned(at)
    assert "Nothing saved" in said and "its order size (10 shares) is below the minimum of Will the incumbent win " \
                                      "the election? (15 shares)" in said and "BELOW_MIN_SIZE" in said, said
    assert _params(db, "mm-filter") is None
    at.text_input(key=f"{prefix}_f_text").input("no market has these words")
    at.button(key=f"{prefix}_save").click().run()
    assert "its filter picks no market the desk knows now" in _warned(at) and _params(db, "mm-filter") is None
    at.text_input(key=f"{prefix}_f_text").input("election")
    at.text_input(key=f"{prefix}_p_size").input("15")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and _saved(db, "mm-filter")["size"] == 15  # a size that trades: saved at once


def test_a_kalshi_strategy_worth_less_than_the_min_order_value_is_warned(strategies: AppTest, db: Database) -> None:
    ticker = "kalshi:KXTEST-1"
    with db.write() as conn:  # a paired Kalshi market, its book recorded at 40 cents
        conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                 kalshi_title, warnings, created_at, created_by)
                             VALUES (:c, 'KXTEST-1', 0, 'q', 'Will the test pass on Kalshi?', '[]', 1, 't')"""),
                     {"c": BTC})
        conn.execute(text("INSERT INTO ticks (at, token_id, kind, mid) VALUES (:at, :t, 'book', 400000)"),
                     {"at": now_ms(), "t": f"{ticker}:yes"})
    at = strategies
    prefix = _new(at, "market_making", "mm-kalshi")
    at.text_input(key=f"{prefix}_find").input(ticker).run()
    from pages.widgets.strategy_markets import add_key, tick_key

    at.checkbox(key=tick_key(at.session_state, prefix, ticker)).check().run()
    at.button(key=add_key(prefix)).click().run()
    at.text_input(key="strategy_new_name").input("mm-kalshi")
    at.text_input(key=f"{prefix}_p_size").input("2")  # 2 contracts at 0.40: 0.80, under the 1.00 minimum
    at.button(key=f"{prefix}_save").click().run()
    said = _warned(at)
    assert "worth less than the min order value (1)" in said and "about 0.80 at 0.40" in said \
        and "MIN_ORDER_VALUE" in said, said
    assert _params(db, "mm-kalshi") is None
    at.text_input(key=f"{prefix}_p_size").input("3")  # 1.20: traded
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and _saved(db, "mm-kalshi")["size"] == 3


def test_an_ensemble_needing_more_sources_than_price_its_market_is_warned(strategies: AppTest, db: Database) -> None:
    with db.write() as conn:  # the operator's fair value alone prices the bitcoin market
        conn.execute(text("DELETE FROM signals"))
        conn.execute(text("""INSERT INTO signals (source, condition_id, fair_value, updated_at, updated_by)
                             VALUES ('operator', :c, 600000, :at, 't')"""), {"c": BTC, "at": now_ms()})
    at = strategies
    prefix = _new(at, "ensemble", "ens")
    from tests.dashboard.test_strategies import _add_markets

    _add_markets(at, prefix, "bitcoin", BTC)
    at.text_input(key="strategy_new_name").input("ens")
    at.button(key=f"{prefix}_save").click().run()
    said = _warned(at)
    assert "only when 2 fair-value sources price it, and no market of its has more than 1 now" in said, said
    assert "set Minimum sources to 1" in said and _params(db, "ens") is None
    at.text_input(key=f"{prefix}_p_min_sources").input("1")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and _saved(db, "ens")["min_sources"] == 1


def test_a_new_strategys_size_starts_where_the_desks_markets_trade(strategies: AppTest, db: Database) -> None:
    with db.write() as conn:  # most of the markets the desk knows need 15 shares (as the simulator's do)
        conn.execute(text("UPDATE markets SET min_size = 15000000 WHERE condition_id != :c"), {"c": BTC})
    at = strategies
    prefix = _new(at, "market_making", "mm-default")
    assert float(at.text_input(key=f"{prefix}_p_size").value or 0) == 15  # not the kind's 10, refused almost everywhere
    from tests.dashboard.test_strategies import _add_markets

    _add_markets(at, prefix, "election", ELECTION)
    at.text_input(key="strategy_new_name").input("mm-default")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and _saved(db, "mm-default")["size"] == 15  # saved as it came: it trades there
