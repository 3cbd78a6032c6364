"""The manual ticket on the Markets page (AppTest on a seeded database): a preview from the
recorded book before anything can be placed, field errors that post nothing, and Confirm posting
exactly one place_order whose answer (placed, or refused with the gate's reason) is shown."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import answer_next, engine_up
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC, ELECTION


def _place_orders(db: Database) -> list[dict]:
    with db.read() as conn:
        return [json.loads(p) for (p,) in conn.execute(text("SELECT payload FROM commands WHERE kind = 'place_order'"))]


def _ticket(page: Callable[[str], AppTest], db: Database, market: str = BTC) -> AppTest:
    with db.write() as conn:  # the venue's fee schedule for this market, as discovery stores it
        conn.execute(text("UPDATE markets SET fee_rate_ppm = 50000, fee_exponent = 1, fees_at = :now "
                          "WHERE condition_id = :c"), {"now": now_ms(), "c": market})
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(market).run()
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value if not m.delta else f"{m.value} ({m.delta})" for m in at.metric}


def test_a_limit_order_is_previewed_then_placed_once(seeded: int, db: Database,
                                                      page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db)
    assert at.button(key="t_confirm").disabled  # nothing to confirm before a preview
    at.number_input(key="t_size").set_value(10.0)
    at.number_input(key="t_price").set_value(0.40)
    at.checkbox(key="t_post_only").check()
    at.button(key="t_preview").click().run()
    assert not at.exception
    shown = _metrics(at)
    assert shown["Price"] == "0.400" and shown["Shares"] == "10.00" and shown["Paid (pUSD)"] == "4.00"
    assert shown["Taker fee (pUSD)"] == "0.00000" and shown["Manual YES after (sh)"] == "10.00"
    assert any("Rests on the book" in c.value for c in at.caption)
    assert _place_orders(db) == []  # a preview posts nothing
    engine_up(db)
    engine = answer_next(db, "place_order", ok=True, result='{"orders": [{"id": 9, "status": "LIVE"}]}')
    at.button(key="t_confirm").click().run()
    engine.join(5)
    assert _place_orders(db) == [{"condition_id": BTC, "outcome": "YES", "side": "BUY", "tif": "GTC",
                                  "size": "10.0", "price": "0.4", "post_only": True}]
    assert any("BUY YES in “Will Bitcoin reach $100k by June?”: done" in as_read(s.value) for s in at.success)


def test_a_marketable_buy_in_usdc_shows_its_price_and_fee(seeded: int, db: Database,
                                                           page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db)
    at.segmented_control(key="t_how").set_value("Marketable").run()
    at.segmented_control(key="t_unit").set_value("pUSD").run()
    at.number_input(key="t_size").set_value(27.0)
    at.number_input(key="t_slippage").set_value(0.02)
    at.selectbox(key="t_tif").set_value("FAK")
    at.button(key="t_preview").click().run()
    shown = _metrics(at)
    # The recorded ask is 300 at 0.52 (0.51 was taken): 0.52 + 0.02 → 0.54; 27 / 0.54 = 50 shares.
    assert shown["Price"] == "0.540" and shown["Shares"] == "50.00" and shown["Paid (pUSD)"] == "27.00"
    # All 50 trade at once, at the ask's own price (the fee follows the execution price, not the
    # limit): 50 × 0.05 × (0.52 × 0.48) = 0.624 pUSD.
    assert shown["Taker fee (pUSD)"] == "0.62400"
    assert any("Trades on arrival" in c.value for c in at.caption)


def test_a_ticket_that_cannot_be_placed_names_the_field_and_posts_nothing(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db)
    at.number_input(key="t_size").set_value(2.0)  # the market's minimum is 5 shares
    at.button(key="t_preview").click().run()
    assert any("Fix the ticket: size" in e.value and "minimum of 5" in e.value for e in at.error)
    assert at.button(key="t_confirm").disabled
    at.segmented_control(key="t_side").set_value("SELL").run()
    at.number_input(key="t_size").set_value(10.0)
    at.button(key="t_preview").click().run()
    assert any("holds 0 settled shares" in e.value for e in at.error)
    assert _place_orders(db) == []


def test_a_refused_order_shows_the_engine_reason(seeded: int, db: Database,
                                                  page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db)
    at.number_input(key="t_size").set_value(10.0)
    at.number_input(key="t_price").set_value(0.40)
    at.button(key="t_preview").click().run()
    engine_up(db)
    engine = answer_next(db, "place_order", ok=False, error="the risk gate refuses it: MAX_ORDER_SIZE")
    at.button(key="t_confirm").click().run()
    engine.join(5)
    assert any("BUY YES in “Will Bitcoin reach $100k by June?”: failed" in as_read(e.value)
               and "MAX_ORDER_SIZE" in as_read(e.value) for e in at.error)
    assert not any("Will Bitcoin" in s.value for s in at.success)


def test_with_no_recorded_book_a_marketable_order_cannot_be_confirmed(seeded: int, db: Database,
                                                                      page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db, ELECTION)  # nothing recorded for this market's books
    at.segmented_control(key="t_how").set_value("Marketable").run()
    at.number_input(key="t_size").set_value(10.0)
    at.selectbox(key="t_tif").set_value("FAK")
    at.button(key="t_preview").click().run()
    assert not at.exception
    assert any("No recorded book for YES" in e.value and "Give a limit price instead" in e.value for e in at.error)
    assert not _metrics(at)  # no price shown: nothing to confirm against
    assert at.button(key="t_confirm").disabled
    assert not any("the engine prices it" in c.value for c in at.caption)
    assert _place_orders(db) == []


def test_with_no_recorded_book_a_limit_order_shows_its_worst_case(seeded: int, db: Database,
                                                                  page: Callable[[str], AppTest]) -> None:
    at = _ticket(page, db, ELECTION)
    at.number_input(key="t_size").set_value(10.0)
    at.number_input(key="t_price").set_value(0.40)
    at.button(key="t_preview").click().run()
    shown = _metrics(at)
    assert shown["Price"] == "0.400" and shown["Paid (pUSD)"] == "4.00 (at most)"
    # As if all 10 took liquidity: 10 × 0.05 × (0.40 × 0.60) = 0.12 pUSD.
    assert shown["Taker fee (pUSD)"] == "0.12000 (at most)"
    assert any("whether it trades on arrival is not known here" in c.value for c in at.caption)
    assert not any("Rests on the book" in c.value for c in at.caption)  # it might not
    assert not at.button(key="t_confirm").disabled


def test_a_limit_priced_through_the_book_past_the_max_slippage_is_refused_in_the_preview(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    """A GTC trades on arrival as surely as a FAK: the max-slippage limit (0.05 by default) holds
    for it too, and a price off the tick grid is refused rather than rounded to one not typed."""
    at = _ticket(page, db)
    at.number_input(key="t_size").set_value(10.0)
    at.number_input(key="t_price").set_value(0.99)  # the mid is 0.5075: 0.4825 away
    at.button(key="t_preview").click().run()
    assert any("Fix the ticket: price" in as_read(e.value) and "max slippage of 0.05" in as_read(e.value)
               for e in at.error)
    assert at.button(key="t_confirm").disabled
    at.number_input(key="t_price").set_value(0.55)  # 0.0425 from the mid: within the cap
    at.button(key="t_preview").click().run()
    assert not at.error and _metrics(at)["Price"] == "0.550"
    at.number_input(key="t_price").set_value(0.455)
    at.button(key="t_preview").click().run()
    assert any("not on this market's 0.01 tick grid: use 0.45 or 0.46" in as_read(e.value) for e in at.error)
    assert _place_orders(db) == []
