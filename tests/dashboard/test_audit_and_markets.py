"""Audit & alerts (acknowledge, diff, log tail) and Markets (search, one market's detail)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import chart_traces, table_with, tables_of
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC, ELECTION, RAIN


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def no_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "engine.log"
    monkeypatch.setenv("ENGINE_LOG_FILE", str(path))
    return path


def test_acknowledge_one_alert_then_all(
    seeded: int, db: Database, no_log: Path, page: Callable[[str], AppTest]
) -> None:
    at = page("audit")
    assert len(table_with(at, "code")) == 2
    at.selectbox(key="alert_pick").set_value(2)
    at.button(key="alert_ack").click().run()
    assert _rows(db, "SELECT id, acked_by FROM alerts WHERE acked_at IS NOT NULL") == [(2, "dashboard")]
    assert _rows(db, "SELECT action, entity FROM audit_log WHERE action = 'alert.ack'") == [
        ("alert.ack", "alert:2")
    ]
    assert list(table_with(at, "code")["id"]) == [1]  # unacknowledged only, by default
    at.button(key="alert_ack_all").click().run()
    assert _rows(db, "SELECT COUNT(*) FROM alerts WHERE acked_at IS NULL") == [(0,)]
    at.toggle(key="alerts_unacked").set_value(False).run()
    assert len(table_with(at, "code")) == 2


def test_audit_trail_with_a_diff(
    seeded: int, db: Database, no_log: Path, page: Callable[[str], AppTest]
) -> None:
    at = page("audit")
    trail = table_with(at, "entity")
    assert list(trail["action"]) == ["risk_limit.update"]
    diff = table_with(at, "change")
    assert diff.to_dict("records") == [
        {"field": "value", "before": '"50"', "after": '"60"', "change": "changed"}
    ]
    at.text_input(key="audit_entity").input("strategy:").run()
    assert any("0 entries match" in c.value for c in at.caption)


def test_audit_filters_by_action(
    seeded: int, db: Database, no_log: Path, page: Callable[[str], AppTest]
) -> None:
    with db.write() as conn:
        conn.execute(
            text("""INSERT INTO audit_log (at, actor, action, entity, before, after)
                             VALUES (1, 'engine', 'strategy.disable', 'strategy:x', '{"enabled": true}',
                                     '{"enabled": false, "error": "boom"}')""")
        )
    at = page("audit")
    at.selectbox(key="audit_action").set_value("strategy.disable").run()
    assert list(table_with(at, "entity")["entity"]) == ["strategy:x"]
    diff = table_with(at, "change").set_index("field")
    assert diff.loc["enabled", "after"] == "false" and diff.loc["error", "change"] == "added"


def test_log_tail_missing_file(db: Database, no_log: Path, page: Callable[[str], AppTest]) -> None:
    at = page("audit")
    assert any(f"No engine log at `{no_log}`" in i.value for i in at.info)


def test_log_tail_shows_the_last_lines_masking_secrets(
    db: Database, no_log: Path, page: Callable[[str], AppTest]
) -> None:
    import os

    secret = os.environ["DASHBOARD_PASSWORD_HASH"]
    lines = [
        json.dumps(
            {
                "ts": f"2026-01-01T00:00:{i % 60:02d}.000Z",
                "level": "INFO",
                "logger": "engine",
                "msg": f"line {i}",
            }
        )
        for i in range(500)
    ]
    lines.append(
        json.dumps({"ts": "x", "level": "ERROR", "logger": "engine", "msg": f"oops {secret}", "k": 1})
    )
    lines.append("a plain text line")
    no_log.write_text("\n".join(lines) + "\n")
    at = page("audit")
    table = table_with(at, "logger")
    # Newest first: the page opens on the last line written, not on the oldest one kept.
    assert len(table) == 200 and table["msg"].iloc[0] == "a plain text line"
    assert table["msg"].iloc[-1] == "line 302"
    assert any("newest first" in c.value for c in at.caption)
    assert "oops ***" in list(table["msg"]) and not table.to_csv().count(secret)
    at.selectbox(key="log_level").set_value("ERROR").run()
    errors = table_with(at, "logger")
    assert list(errors["msg"]) == ["oops ***"] and errors["detail"].iloc[0] == '{"k": 1}'


def test_log_tail_masks_an_api_secret_shaped_value_it_was_not_told_about(
    db: Database, no_log: Path, page: Callable[[str], AppTest]
) -> None:
    # The url-safe base64 of 32 bytes, like a Polymarket API secret derived at run time (so
    # not among the configured secrets the page knows), in the message and in a field.
    leaked = base64.urlsafe_b64encode(b"not a real secret, 32 bytes long").decode()
    line = {"ts": "x", "level": "WARNING", "logger": "engine", "msg": f"creds {leaked} ok", "k": leaked}
    no_log.write_text(json.dumps(line) + "\n")
    at = page("audit")
    table = table_with(at, "logger")
    assert list(table["msg"]) == ["creds *** ok"] and table["detail"].iloc[0] == '{"k": "***"}'
    assert leaked not in table.to_csv()


def _markets(at: AppTest) -> list[str]:
    found = [t for t in tables_of(at) if "liquidity" in t.columns and "volume_24h" in t.columns]
    return list(found[0]["condition_id"]) if found else []


def test_market_search_filters(seeded: int, page: Callable[[str], AppTest]) -> None:
    at = page("markets")
    assert _markets(at) == [ELECTION, BTC, RAIN]  # by volume
    at.text_input(key="mk_text").input("bitcoin june").run()
    assert _markets(at) == [BTC]
    at.text_input(key="mk_text").input("")
    at.multiselect(key="mk_tags").set_value(["weather"]).run()
    assert _markets(at) == [RAIN]
    at.multiselect(key="mk_tags").set_value([])
    at.toggle(key="mk_tradable").set_value(True).run()
    assert _markets(at) == [ELECTION, BTC]
    at.number_input(key="mk_min_volume").set_value(3_000_000.0).run()
    assert _markets(at) == [ELECTION]
    at.number_input(key="mk_min_volume").set_value(0.0)
    at.text_input(key="mk_text").input("no such market").run()
    assert "No discovered market matches." in [i.value for i in at.info]


def test_market_end_date_filter(seeded: int, page: Callable[[str], AppTest]) -> None:
    from datetime import date, timedelta

    at = page("markets")
    at.date_input(key="mk_end_to").set_value(date.today() + timedelta(days=40)).run()
    assert _markets(at) == [BTC, RAIN]
    at.date_input(key="mk_end_from").set_value(date.today() + timedelta(days=10)).run()
    assert _markets(at) == [BTC]


def test_market_detail(seeded: int, page: Callable[[str], AppTest]) -> None:
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(BTC).run()
    assert not at.exception
    assert "### Will Bitcoin reach $100k by June?" in [as_read(m.value) for m in at.markdown]
    assert len(at.get("plotly_chart")) == 2  # price and depth
    # Our paper trades on the price: the two fills as buy markers (hover: price, size, fee,
    # strategy), the resting orders as segments over their lifetime.
    traces = chart_traces(at.get("plotly_chart")[0])
    buys = traces["buys (size ∝ sh)"]
    assert buys["y"] == [0.47, 0.47] and [c[:3] for c in buys["customdata"]] == [[10.0, 0.01, "mm-btc"]] * 2
    assert "fee" in buys["hovertemplate"] and "strategy" in buys["hovertemplate"]
    segments = [y for y in traces["resting buys"]["y"] if y is not None]
    assert sorted(set(segments)) == [0.47, 0.48]  # resting now, and filled an hour ago; not the live one
    assert traces["resting sells"]["y"][:2] == [0.52, 0.52]
    assert any(c.value.startswith("2 fills and ") and "resting orders of ours" in c.value for c in at.caption)
    assert any("Book snapshot at" in c.value and "+ 2 later changes" in c.value for c in at.caption)
    who = table_with(at, "via", "kind").set_index("name")  # the Signals table has a "via" too
    assert who.loc["mm-btc", "via"] == "has orders here, holds a position here, names it in its market list"
    at.toggle(key="cols_market_orders").set_value(True).run()  # every column: the ids too
    orders = table_with(at, "tif")
    assert sorted(orders["id"]) == [1, 2, 3, 5]  # every mode
    assert list(table_with(at, "avg_price")["strategy"]) == ["mm-btc"]
    at.segmented_control(key="mk_outcome").set_value("NO").run()
    assert any("No prices recorded for the NO token yet." in i.value for i in at.info)


def test_a_market_whose_ticks_are_gone_draws_its_kept_candles(seeded: int, db: Database,
                                                              page: Callable[[str], AppTest]) -> None:
    """Past the ticks' retention the price chart reads the candles the recorder kept, and says so."""
    from contracts.candles import MINUTE_MS, Candle, rolled_up
    from storage.engine_stores.candle_store import merge_candles
    from storage.engine_stores.tick_store import prune_ticks
    from storage.sqlite.db import raw_connection
    from tests.dashboard.seed import YES_BTC

    start = (seeded - 3 * 3_600_000) // MINUTE_MS * MINUTE_MS
    minutes = []
    for n in range(0, 120, 10):  # a candle every ten minutes, the mid climbing from 0.40
        candle = Candle(YES_BTC, MINUTE_MS, start + n * MINUTE_MS)
        candle.add_mid(start + n * MINUTE_MS + 1, 400_000 + n * 1_000, 20_000)
        minutes.append(candle)
    conn = raw_connection(db.path)
    try:
        merge_candles(conn, rolled_up(minutes))
    finally:
        conn.close()
    prune_ticks(db.path, before_ms=seeded + 1)  # the ticks' retention ended
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(BTC).run()
    assert not at.exception
    mid = chart_traces(at.get("plotly_chart")[0])["mid"]
    assert mid["y"][0] == 0.4 and mid["y"][-1] == 0.51 and len(mid["y"]) == 12
    assert any("The mid from 1 min candles." in c.value for c in at.caption)


def _event(db: Database, augmented: bool) -> None:
    """The election's Gamma event as discovery stores it: itself, a sibling the desk does not list,
    and, augmented, an Other market and a placeholder."""
    members = [(ELECTION, "named", "Will the incumbent win the election?"),
               ("0xchallenger", "named", "Will the challenger win the election?")]
    if augmented:
        members += [("0xother", "other", "Will anyone else win the election?"),
                    ("0xlater", "placeholder", "Election: outcome to be named later")]
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET event_id = 'ev1' WHERE condition_id = :c"), {"c": ELECTION})
        conn.execute(text("INSERT INTO market_events (id, title, neg_risk_market_id, augmented, updated_at) "
                          "VALUES ('ev1', 'Election winner', NULL, :a, 0)"), {"a": int(augmented)})
        conn.execute(text("INSERT INTO event_members (event_id, condition_id, role, question) VALUES ('ev1', :c, :r, "
                          ":q)"),
                     [{"c": c, "r": r, "q": q} for c, r, q in members])


def test_the_event_view_shows_what_a_set_buying_strategy_sees(seeded: int, db: Database,
                                                               page: Callable[[str], AppTest]) -> None:
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(ELECTION).run()
    assert any("Its event was not read from Gamma /events yet" in c.value for c in at.caption)
    _event(db, augmented=True)
    at.run()
    assert not at.exception
    assert any("Election winner: 4 markets (2 named, 1 placeholder, 1 Other)" in c.value for c in at.caption)
    assert any("Not bought as a set" in as_read(w.value) and "is augmented" in as_read(w.value) for w in at.warning)
    roles = table_with(at, "role")
    assert list(roles["role"]) == ["named", "named", "other", "placeholder"]
    assert list(roles["tradable here"]) == [True, False, False, False]


def test_the_event_view_says_when_the_desk_lacks_a_sibling(seeded: int, db: Database,
                                                           page: Callable[[str], AppTest]) -> None:
    _event(db, augmented=False)
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(ELECTION).run()
    assert any("Not bought as a set: the desk has 1 of event 'Election winner''s 2 markets" in as_read(w.value)
               for w in at.warning)


def test_a_market_shows_what_its_resolution_paid(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET closed = 1, payout_yes = 500000, payout_no = 500000 "
                          "WHERE condition_id = :c"), {"c": BTC})
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(BTC).run()
    assert not at.exception
    assert any("resolved 0.5/0.5: a YES share pays 0.5, a NO 0.5" in c.value for c in at.caption)


def test_the_markets_page_shows_each_markets_protocol(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:  # the rain market is a Protocol V2 one, as discovery stores it
        conn.execute(text("UPDATE markets SET gamma_version = 'v2', tradable = 1, closed = 0 WHERE condition_id = :c"),
                     {"c": RAIN})
    at = page("markets")
    listed = next(t for t in tables_of(at) if "liquidity" in t.columns).set_index("condition_id")
    assert listed.loc[RAIN, "protocol"] == "v2 (ExchangeV3)" and listed.loc[BTC, "protocol"] == "v1 (CTF)"
    at.selectbox(key="mk_pick").set_value(RAIN).run()
    facts = [as_read(c.value) for c in at.caption if "protocol" in c.value]
    assert facts and "protocol v2 (ExchangeV3)" in facts[0] and "not supported yet" not in facts[0]
    at.selectbox(key="mk_pick").set_value(BTC).run()
    facts = [as_read(c.value) for c in at.caption if "protocol" in c.value]
    assert facts and "protocol v1 (CTF)" in facts[0] and "not supported yet" not in facts[0]


def test_an_up_down_window_says_what_prices_it_and_its_price_to_beat(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    """Chainlink (what it settles on) or the exchange spot as a named fallback, and where the price to beat
    came from; an ordinary market says nothing of the kind."""
    with db.write() as conn:
        conn.execute(text("INSERT INTO updown_windows (condition_id, priced_by, price_to_beat, beat_from, updated_at) "
                          "VALUES (:c, 'chainlink', 64058030000, 'gamma', 0)"), {"c": RAIN})
    at = page("markets")
    at.selectbox(key="mk_pick").set_value(RAIN).run()
    facts = [as_read(c.value) for c in at.caption if "protocol" in c.value]
    assert facts and "priced on Chainlink (what it settles on) · price to beat 64,058.03 (Gamma)" in facts[0]
    with db.write() as conn:
        conn.execute(text("UPDATE updown_windows SET priced_by = 'okx', beat_from = 'okx', price_to_beat = NULL"))
    at.run()
    facts = [as_read(c.value) for c in at.caption if "protocol" in c.value]
    assert "priced on the okx spot (fallback: Chainlink is silent) · price to beat unknown" in facts[0]
    at.selectbox(key="mk_pick").set_value(BTC).run()
    facts = [as_read(c.value) for c in at.caption if "protocol" in c.value]
    assert facts and "priced on" not in facts[0] and "price to beat" not in facts[0]


def test_the_market_list_shows_quotes_last_trade_and_our_holding(seeded: int,
                                                               page: Callable[[str], AppTest]) -> None:
    """The seeded BTC book: bids 0.49/0.48 and asks 0.51/0.52, then a bid at 0.495 added and the
    0.51 ask taken away; its last trade 0.5095; the desk holds 20 YES (10 settled, 10 pending)."""
    at = page("markets")
    (scan,) = [t for t in tables_of(at) if "spread" in t.columns]
    btc = scan.set_index("condition_id").loc[BTC]
    assert (btc["bid"], btc["ask"]) == (pytest.approx(0.495), pytest.approx(0.52))
    assert btc["mid"] == pytest.approx(0.5075) and btc["spread"] == pytest.approx(0.025)
    assert btc["last"] == pytest.approx(0.5095)
    assert (btc["yes_held"], btc["no_held"]) == (pytest.approx(20), 0)
    rain = scan.set_index("condition_id").loc[RAIN]
    assert pd.isna(rain["bid"]) and pd.isna(rain["last"])  # nothing recorded: blank, not zero
    assert btc["priced"].startswith("book ") and rain["priced"] == "no price yet"


def test_a_market_the_desk_does_not_follow_is_priced_from_the_venue_s_listing(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    """RAIN has no recorded tick: the listing's bid, ask and last trade (as the market refresh read
    them) price it, named as the listing's with the time read."""
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET listed_bid = 310000, listed_ask = 330000, listed_last = 320000, "
                          "listed_at = :at WHERE condition_id = :c"), {"at": now_ms(), "c": RAIN})
    at = page("markets")
    (scan,) = [t for t in tables_of(at) if "priced" in t.columns]
    rain = scan.set_index("condition_id").loc[RAIN]
    assert (rain["bid"], rain["ask"], rain["last"]) == (pytest.approx(0.31), pytest.approx(0.33), pytest.approx(0.32))
    assert rain["mid"] == pytest.approx(0.32) and rain["priced"].startswith("listing ")


def test_the_order_trail_filters_by_strategy_market_and_order(
    seeded: int, db: Database, no_log: Path, page: Callable[[str], AppTest]
) -> None:
    with db.write() as conn:  # the engine's cancel of order 1, with its cause, as the executor writes it
        conn.execute(text("UPDATE orders SET status = 'CANCEL_PENDING', status_rank = 30, end_reason = 'replaced', "
                          "ending_at = :now, updated_at = :now WHERE id = 1"), {"now": seeded})
    at = page("audit")
    steps = table_with(at, "why", "fill_size")
    assert list(steps["event"]) == ["replaced", "placed", "placed", "filled", "filled", "placed", "placed"]
    assert steps["order_id"].iloc[0] == 1 and steps["why"].iloc[0] == "replaced"
    at.selectbox(key="trail_strategy").set_value("vb-election").run()
    assert list(table_with(at, "why", "fill_size")["order_id"]) == [4]
    at.selectbox(key="trail_strategy").set_value("(all)").run()
    at.selectbox(key="trail_market").set_value(ELECTION).run()
    assert set(table_with(at, "why", "fill_size")["question"]) == {"Will the incumbent win the election?"}
    at.selectbox(key="trail_market").set_value("(all)").run()
    at.text_input(key="trail_order").input("c3").run()  # by its client id
    third = table_with(at, "why", "fill_size")
    assert list(third["event"]) == ["filled", "filled", "placed"] and set(third["order_id"]) == {3}
    at.text_input(key="trail_order").input("5").run()  # a live order, whatever the mode shown
    assert list(table_with(at, "why", "fill_size")["order_id"]) == [5]
    at.text_input(key="trail_order").input("no-such-order").run()
    assert any("No order 'no-such-order'" in w.value for w in at.warning)
