"""The Strategies page says which strategies trade live and which are paper only, and promotes one
only with its name typed (refused in words otherwise), audited; back to paper is one click."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.venues import POLYMARKET
from storage.engine_stores import ledger_risk_store
from storage.engine_stores.ledger_risk_store import LedgerRisk
from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import fresh_heartbeat, table_with, tables_of
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
    checklist = [as_read(m.value) for m in at.markdown]
    assert any("2 paper fills, realized +1.25 pUSD on paper" in m for m in checklist)  # its record, before typing
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


def test_a_paper_only_strategy_on_a_live_desk_shows_its_paper_ledger(seeded: int, db: Database,
                                                                     page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'"))
        paper = conn.execute(text("SELECT COALESCE(SUM(realized - fees), 0) FROM positions WHERE mode = 'paper' "
                                  "AND strategy = 'mm-btc'")).scalar_one()
    at = page("strategies")
    table = table_with(at, "ledger").set_index("name")
    assert table.loc["mm-btc", "ledger"] == "paper" and table.loc["mm-btc", "trades"] == "paper only"
    assert (table.drop(index="mm-btc")["ledger"] == "live").all()
    assert abs(float(table.loc["mm-btc", "realized"]) - paper / 1e6) < 0.01  # its paper PnL, not live's
    assert any("trade on paper beside the live ones" in as_read(c.value) for c in at.caption)
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert any(s.value.endswith("performance (paper)") for s in at.subheader)


def test_the_overview_shows_the_paper_ledger_apart_on_a_live_desk(seeded: int, db: Database,
                                                                logged_in: Callable[[], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
    assert not any("Paper ledger" in s.value for s in logged_in().subheader)  # every strategy promoted: no ledger
    with db.write() as conn:
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'"))
    at = logged_in()
    assert any(s.value == "Paper ledger: paper-only strategies beside live" for s in at.subheader)
    assert any("mm-btc trade on paper" in as_read(c.value) for c in at.caption)
    positions = [f for f in tables_of(at) if "strategy" in f.columns and "mm-btc" in set(f["strategy"])]
    assert positions, "the paper ledger's positions (mm-btc holds paper shares) are shown"
    assert any(c.value == "No open live positions." for c in at.caption)  # live's table stays live's
    with db.write() as conn:  # the ledger's own kill switch tripped: said on the Overview, the desk's state apart
        conn.execute(text("UPDATE engine_state SET heartbeat_at = :beat"), {"beat": fresh_heartbeat()})
        ledger_risk_store.write(conn, POLYMARKET, "paper", LedgerRisk("HALTED", "KILL_SWITCH_DRAWDOWN"), now_ms())
    at = logged_in()
    assert any(as_read(w.value).startswith("Paper ledger HALTED: KILL_SWITCH_DRAWDOWN") for w in at.warning)
    assert any("REDUCING" in m.value for m in at.markdown)  # the seeded desk's own state, in the header


def test_the_risk_page_shows_the_ledger_usage_and_its_decisions_apart(seeded: int, db: Database,
                                                                    page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
        ledger_risk_store.write(conn, POLYMARKET, "paper", LedgerRisk(peak_equity=20_000_000_000), now_ms())
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'"))
        paper_decisions = conn.execute(text("SELECT COUNT(*) FROM decisions WHERE mode = 'paper'")).scalar_one()
    at = page("risk")
    assert any(s.value == "Paper ledger usage: paper-only strategies, on paper" for s in at.subheader)
    drawdowns = [m.value for m in at.metric if m.label == "Drawdown from peak"]
    assert len(drawdowns) == 2 and drawdowns[1].startswith("49.5"), drawdowns  # 10,100 against its peak 20,000
    assert at.radio(key="dec_ledger").value == "live"
    assert any("No trims or refusals match in live mode" in as_read(c.value) for c in at.caption)
    at.radio(key="dec_ledger").set_value("paper").run()
    assert paper_decisions and any("newest paper decisions shown" in as_read(c.value) for c in at.caption)


def test_the_orders_page_lists_the_paper_ledger_positions_apart_with_their_own_exit(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'"))
    at = page("orders")
    assert any("Paper ledger positions" in as_read(m.value) for m in at.markdown)
    assert any(c.value == "No open live positions." for c in at.caption)
    assert at.selectbox(key="exit_pick_orders_paper_ledger").options  # mm-btc's paper shares, exitable
    at.button(key="exit_open_orders_paper_ledger").click().run()
    at.button(key="exit_confirm").click().run()
    with db.read() as conn:
        [(kind, payload)] = conn.execute(text("SELECT kind, payload FROM commands")).all()
    assert kind == "exit" and json.loads(payload)["ledger"] == "paper"  # sold on paper, never at the venue


def test_a_strategy_naming_a_kalshi_market_shows_kalshis_paper_ledger(seeded: int, db: Database,
                                                                       page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
        conn.execute(text("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]' WHERE name = 'mm-btc'"""))
        conn.execute(text("""INSERT INTO orders (client_id, mode, venue, strategy, condition_id, token_id, outcome,
                                 side, price, size, filled, tif, post_only, status, status_rank, flags, created_at,
                                 updated_at)
                             VALUES ('k1', 'paper', 'kalshi', 'mm-btc', 'kalshi:KXTEST-1', 'kalshi:KXTEST-1:yes',
                                 'YES', 'BUY', 400000, 10000000, 0, 'GTC', 0, 'LIVE', 10, '', 1, 1)"""))
    at = page("strategies")
    table = table_with(at, "ledger").set_index("name")
    assert table.loc["mm-btc", "ledger"] == "paper on Kalshi"
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert any(s.value.endswith("performance (paper)") for s in at.subheader)  # its figures are its paper ledger's
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'paper'"))  # the Orders page opens on the desk's mode
    orders = table_with(page("orders"), "trade", "created_at")
    assert set(orders["venue"]) == {"kalshi", "polymarket"}  # the Orders page names each order's venue


def test_the_overview_shows_kalshis_paper_ledger_apart(seeded: int, db: Database,
                                                       page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]' WHERE name = 'mm-btc'"""))
        conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                 kalshi_title, warnings, created_at, created_by)
                             VALUES ('0xpaired', 'KXTEST-1', 0, 'q', 'Will the test pass on Kalshi?', '[]', 1, 't')"""))
        conn.execute(text("""INSERT INTO positions (mode, venue, strategy, token_id, condition_id, outcome, settled,
                                 pending, cost, realized, fees, updated_at)
                             VALUES ('paper', 'kalshi', 'mm-btc', 'kalshi:KXTEST-1:yes', 'kalshi:KXTEST-1', 'YES',
                                 10000000, 0, 4000000, 0, 170000, 1)"""))
        conn.execute(text("""INSERT INTO venue_risk (mode, venue, trading_state, reason, updated_at)
                             VALUES ('paper', 'kalshi', 'REDUCING', 'DRAWDOWN', 1)"""))
    at = page("overview")
    assert any(h.value == "Kalshi: paper ledger" for h in at.subheader)
    assert any("Kalshi paper REDUCING" in as_read(w.value) for w in at.warning)
    kalshi = [t for t in tables_of(at) if "venue" in t.columns and set(t["venue"]) == {"kalshi"}]
    assert kalshi and "Will the test pass on Kalshi?" in set(kalshi[0]["question"])


def test_the_overview_shows_kalshis_live_ledger_once_armed(seeded: int, db: Database,
                                                          page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]', live = 1 WHERE name = 'mm-btc'"""))
        conn.execute(text("UPDATE venue_modes SET mode = 'live', "
                          "host = 'https://api.elections.kalshi.com/trade-api/v2' WHERE venue = 'kalshi'"))
        conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                 kalshi_title, warnings, created_at, created_by)
                             VALUES ('0xpaired', 'KXTEST-1', 0, 'q', 'Will the test pass on Kalshi?', '[]', 1, 't')"""))
        for mode in ("paper", "live"):  # an old paper position, and the live one: only live's is shown there
            conn.execute(text("""INSERT INTO positions (mode, venue, strategy, token_id, condition_id, outcome,
                                     settled, pending, cost, realized, fees, updated_at)
                                 VALUES (:m, 'kalshi', 'mm-btc', 'kalshi:KXTEST-1:yes', 'kalshi:KXTEST-1', 'YES',
                                     :s, 0, 4000000, 0, 170000, 1)"""), {"m": mode, "s": 10_000_000 if mode == "live"
                                                                          else 3_000_000})
        conn.execute(text("""INSERT INTO venue_risk (mode, venue, trading_state, reason, updated_at)
                             VALUES ('live', 'kalshi', 'HALTED', 'BALANCE_MISMATCH', 1)"""))
    at = page("overview")
    assert any(h.value == "Kalshi: LIVE ledger (real money)" for h in at.subheader)
    assert any("Kalshi live HALTED" in as_read(w.value) for w in at.warning)
    kalshi = [t for t in tables_of(at) if "venue" in t.columns and set(t["venue"]) == {"kalshi"}]
    assert kalshi and list(kalshi[-1]["size"]) == [10]


def test_a_paired_kalshi_market_can_be_picked_by_its_title(seeded: int, db: Database) -> None:
    from storage.dashboard_queries import market_queries

    with db.write() as conn:
        conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                 kalshi_title, warnings, created_at, created_by)
                             VALUES ('0xpaired', 'KXTEST-1', 0, 'q', 'Will the test pass on Kalshi?', '[]', 1, 't')"""))
    choices = market_queries.market_choices(db).set_index("condition_id")
    assert choices.loc["kalshi:KXTEST-1", "question"] == "Kalshi: Will the test pass on Kalshi?"


def test_the_paper_ledger_shows_its_own_and_a_promoted_strategys_leftovers_apart(
        seeded: int, db: Database, logged_in: Callable[[], AppTest]) -> None:
    """On a live desk: the ledger's figures and positions are its paper-only strategy's alone; the paper
    ledger's position of a strategy promoted since is listed apart, labelled, with its own Exit."""
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'"))  # vb-election stays promoted
        conn.execute(text("UPDATE positions SET settled = 5000000, cost = 2000000 WHERE strategy = 'vb-election'"))
    at = logged_in()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Realized (pUSD)"] == "+1.23"  # mm-btc's alone (1.25 less 0.02 of fees), not the
    assert metrics["Fees paid (pUSD)"] == "0.02"  # ledger's with vb-election's -3.00
    positions = [f for f in tables_of(at) if "strategy" in f.columns and "size" in f.columns]
    by_strategy = [set(f["strategy"]) for f in positions]
    assert {"mm-btc"} in by_strategy and {"vb-election"} in by_strategy  # two tables, never mixed
    assert any(as_read(m.value).startswith("**Leftovers on paper** of strategies promoted") for m in at.markdown)
    at.selectbox(key="exit_pick_overview_paper_leftovers").set_value(0).run()
    at.button(key="exit_open_overview_paper_leftovers").click().run()
    at.button(key="exit_confirm").click().run()
    with db.read() as conn:
        [(kind, payload)] = conn.execute(text("SELECT kind, payload FROM commands")).all()
    assert kind == "exit" and json.loads(payload) | {"reason": ""} == {
        "strategy": "vb-election", "condition_id": json.loads(payload)["condition_id"], "outcome": "YES",
        "ledger": "paper", "floors": {}, "reason": ""}  # no price recorded for it: no floor, so the engine sells none
