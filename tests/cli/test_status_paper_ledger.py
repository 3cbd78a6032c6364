"""`engine status`, Telegram's /status (the same lines) and /pnl, and the metrics endpoint name the
paper ledger apart on a live desk (issue 38): the paper-only strategies, the ledger's own trading state,
and the paper ledger's equity and orders, never summed into live's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from contracts.settings import load_settings
from contracts.venues import KALSHI, POLYMARKET
from engine.cli.desk import status_lines
from engine.metrics import DeskCollector
from engine.telegram_bot import replies
from storage.desk import desk_status
from storage.engine_stores import ledger_risk_store
from storage.engine_stores.ledger_risk_store import LedgerRisk
from storage.sqlite.db import now_ms
from storage.sqlite.migrations import migrate
from tests.dashboard.seed import seed


def _report(db: Path) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return desk_status.status_report(conn, db)
    finally:
        conn.close()


def _by_ledger(db: Path) -> dict[tuple[str, str, str], float]:
    """The metrics labelled by ledger: (name, venue, mode) -> value."""
    return {(s.name, s.labels["venue"], s.labels["mode"]): s.value for family in DeskCollector(db).collect()
            for s in family.samples if family.name.startswith("desk_ledger_")}


def test_status_and_metrics_show_the_paper_ledger_apart(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    seed(db)
    assert _report(db)["paper_ledger"] is None  # a paper desk has no ledger: it is all paper
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE engine_state SET mode = 'live'")
        ledger_risk_store.write(conn, POLYMARKET, "paper", LedgerRisk("HALTED", "KILL_SWITCH_DRAWDOWN"), now_ms())
    assert _report(db)["paper_ledger"] is None  # live, every strategy promoted: no ledger either
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'")
    report = _report(db)
    ledger = report["paper_ledger"]
    assert ledger["strategies"] == ["mm-btc"] and ledger["trading_state"] == "HALTED"
    assert ledger["equity_usdc"] is not None and report["equity_usdc"] is None  # paper equity, not live's
    line = next(x for x in status_lines(report, now_ms()) if x.startswith("paper ledger"))
    assert "mm-btc on paper beside live: HALTED (KILL_SWITCH_DRAWDOWN)" in line
    assert f"equity {ledger['equity_usdc']:,.2f} pUSD" in line
    metrics = {s.name: s.value for family in DeskCollector(db).collect() for s in family.samples}
    assert metrics["desk_paper_ledger_equity_pusd"] == ledger["equity_usdc"]
    assert metrics["desk_paper_ledger_halted"] == 1
    # The names these had before the paper ledger was called so: alert rules written against them still fire.
    assert (metrics["desk_paper_lane_equity_pusd"], metrics["desk_paper_lane_halted"]) == (ledger["equity_usdc"], 1)
    # Every ledger labelled by its venue and mode: the live desk's own apart from its paper ledger.
    labelled = _by_ledger(db)
    assert labelled[("desk_ledger_equity", POLYMARKET, "paper")] == ledger["equity_usdc"]
    assert labelled[("desk_ledger_halted", POLYMARKET, "paper")] == 1
    assert labelled[("desk_ledger_halted", POLYMARKET, "live")] == int(report["trading_state"] == "HALTED")
    assert ("desk_ledger_equity", POLYMARKET, "live") not in labelled  # live is not valued yet: no figure
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(db)})
    said = replies.pnl(settings, "today")
    assert said.startswith("PnL today (live): no portfolio snapshot yet.")
    assert f"paper ledger (mm-btc, on paper, not in the figures above): equity {ledger['equity_usdc']:,.2f}" in said


def test_status_metrics_and_pnl_show_kalshis_paper_ledger_apart(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    seed(db)
    assert _report(db)["kalshi_paper"] is None  # no strategy names a Kalshi market
    cash_before = _report(db)["money"]["cash_usdc"]
    now = now_ms()
    with sqlite3.connect(db) as conn:
        conn.execute("""INSERT INTO cash_ledger (mode, venue, at, kind, amount, ref)
                        VALUES ('paper', 'kalshi', 1, 'deposit', 10000000000, 'kalshi:initial')""")
        conn.execute("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]' WHERE name = 'mm-btc'""")
        conn.execute("""INSERT INTO venue_risk (mode, venue, trading_state, reason, updated_at)
                        VALUES ('paper', 'kalshi', 'HALTED', 'DRAWDOWN', ?)""", (now,))
        conn.execute("""INSERT INTO portfolio_snapshots (mode, venue, at, kind, cash, positions_value,
                            liquidation_value, equity, realized, unrealized, fees, exposure, redeemable)
                        VALUES ('paper', 'kalshi', ?, 'scheduled', 0, 0, 0, 987650000, 0, 0, 0, 0, 0)""", (now,))
        conn.execute("""INSERT INTO orders (client_id, mode, venue, strategy, condition_id, token_id, outcome, side,
                            price, size, filled, tif, post_only, status, status_rank, flags, created_at, updated_at)
                        VALUES ('k1', 'paper', 'kalshi', 'mm-btc', 'kalshi:KXTEST-1', 'kalshi:KXTEST-1:yes', 'YES',
                            'BUY', 400000, 10000000, 0, 'GTC', 0, 'LIVE', 10, '', ?, ?)""", (now, now))
    report = _report(db)
    kalshi = report["kalshi_paper"]
    assert kalshi["strategies"] == ["mm-btc"] and kalshi["trading_state"] == "HALTED"
    assert kalshi["equity_usdc"] == 987.65 and kalshi["open_orders"] == 1
    assert report["equity_usdc"] != 987.65  # the desk's own equity is Polymarket's ledger's
    assert report["money"]["cash_usdc"] == cash_before  # and its cash: Kalshi's deposit is Kalshi's ledger's
    line = next(x for x in status_lines(report, now) if x.startswith("kalshi"))
    assert "mm-btc on Kalshi's paper ledger: HALTED (DRAWDOWN); equity 987.65 USD" in line
    metrics = {s.name: s.value for family in DeskCollector(db).collect() for s in family.samples}
    assert metrics["desk_kalshi_paper_equity_usd"] == 987.65
    assert metrics["desk_kalshi_paper_halted"] == 1
    labelled = _by_ledger(db)  # the same, labelled, beside the desk's own (the names above: kept for a release)
    assert labelled[("desk_ledger_equity", KALSHI, "paper")] == 987.65
    assert labelled[("desk_ledger_halted", KALSHI, "paper")] == 1
    assert labelled[("desk_ledger_equity", POLYMARKET, "paper")] == report["equity_usdc"]
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(db)})
    said = replies.pnl(settings, "today")
    assert "Kalshi paper (mm-btc, on paper, not in the figures above): equity 987.65" in said
    with sqlite3.connect(db) as conn:
        conn.execute("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                            kalshi_title, warnings, created_at, created_by)
                        VALUES ('0xpaired', 'KXTEST-1', 0, 'q', 'Will the test pass?', '[]', 1, 't')""")
        conn.execute("UPDATE engine_state SET mode = 'paper'")
    assert "Kalshi: Will the test pass?" in replies.orders(settings)  # /orders names the venue and the market


def test_status_metrics_and_pnl_say_when_kalshi_trades_live(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    seed(db)
    now = now_ms()
    with sqlite3.connect(db) as conn:
        conn.execute("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]', live = 1 WHERE name = 'mm-btc'""")
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, live, version, created_at,
                            updated_at, updated_by)
                        VALUES ('kx-paper', 'market_making', '{}', '["kalshi:KXTEST-2"]', 1, 0, 1, 0, 0, 't')""")
        conn.execute("UPDATE venue_modes SET mode = 'live', "  # on Kalshi's own production host
                     "host = 'https://api.elections.kalshi.com/trade-api/v2' WHERE venue = 'kalshi'")
        conn.execute("""INSERT INTO portfolio_snapshots (mode, venue, at, kind, cash, positions_value,
                            liquidation_value, equity, realized, unrealized, fees, exposure, redeemable)
                        VALUES ('live', 'kalshi', ?, 'scheduled', 0, 0, 0, 250000000, 0, 0, 0, 0, 0)""", (now,))
    report = _report(db)
    assert report["kalshi_mode"] == "live" and report["kalshi_paper"] is None
    live = report["kalshi_live"]
    assert live["strategies"] == ["mm-btc"] and live["held"] == ["kx-paper"] and live["equity_usdc"] == 250.0
    assert ", Kalshi LIVE — real money," in status_lines(report, now)[0]  # said at the top, strategies or not
    lines = [x for x in status_lines(report, now) if x.startswith("kalshi")]
    assert "mm-btc LIVE on Kalshi (real money): ACTIVE; equity 250.00 USD" in lines[0] and "(live)" in lines[0]
    assert "held while Kalshi is live: kx-paper" in lines[1]
    metrics = {s.name: s.value for family in DeskCollector(db).collect() for s in family.samples}
    assert metrics["desk_kalshi_live_equity_usd"] == 250.0 and metrics["desk_kalshi_live_halted"] == 0
    assert "desk_kalshi_paper_equity_usd" not in metrics
    labelled = _by_ledger(db)
    assert labelled[("desk_ledger_equity", KALSHI, "live")] == 250.0
    assert labelled[("desk_ledger_halted", KALSHI, "live")] == 0
    assert not any(venue == KALSHI and mode == "paper" for _, venue, mode in labelled)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(db)})
    said = replies.pnl(settings, "today")
    assert "Kalshi LIVE (mm-btc, real money, not in the figures above): equity 250.00" in said


def test_a_cross_venue_strategy_is_named_with_kalshis_ledger(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    seed(db)
    with sqlite3.connect(db) as conn:
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, live, version, created_at,
                            updated_at, updated_by)
                        VALUES ('xa', 'cross_venue_arb', '{}', '["0xpaired"]', 1, 0, 1, 0, 0, 't')""")
    kalshi = _report(db)["kalshi_paper"]
    assert kalshi is not None and kalshi["strategies"] == ["xa"]  # its Kalshi leg trades Kalshi's ledger


def test_positions_and_orders_list_kalshis_live_ledger_apart_on_a_paper_desk(tmp_path: Path) -> None:
    """Telegram's /positions and /orders list the desk's mode; Kalshi armed live while the desk trades
    paper holds real money there, so its ledger is listed apart and said to be live. /flatten sells the
    desk's own ledger only, so a Kalshi position carries no /flatten line and is not what it matches."""
    db = tmp_path / "t.db"
    migrate(db)
    seed(db)
    now = now_ms()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE engine_state SET mode = 'paper'")
        conn.execute("UPDATE venue_modes SET mode = 'live', host = 'https://api.elections.kalshi.com/trade-api/v2' "
                     "WHERE venue = 'kalshi'")
        conn.execute("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                            kalshi_title, warnings, created_at, created_by)
                        VALUES ('0xpaired', 'KXLIVE-1', 0, 'q', 'Will the live test pass?', '[]', 1, 't')""")
        conn.execute("""INSERT INTO positions (mode, venue, strategy, token_id, condition_id, outcome, settled, pending,
                            cost, realized, fees, updated_at)
                        VALUES ('live', 'kalshi', 'mm-btc', 'kalshi:KXLIVE-1:yes', 'kalshi:KXLIVE-1', 'YES',
                            7000000, 0, 2800000, 0, 0, ?)""", (now,))
        conn.execute("""INSERT INTO orders (client_id, mode, venue, strategy, condition_id, token_id, outcome, side,
                            price, size, filled, tif, post_only, status, status_rank, flags, created_at, updated_at)
                        VALUES ('kl1', 'live', 'kalshi', 'mm-btc', 'kalshi:KXLIVE-1', 'kalshi:KXLIVE-1:yes', 'YES',
                            'SELL', 450000, 7000000, 0, 'GTC', 0, 'LIVE', 10, '', ?, ?)""", (now, now))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(db)})
    desk, kalshi = replies.positions(settings).split("\n\n")
    assert desk.startswith("1 open position (paper)") and "/flatten" in desk  # the seeded paper BTC position
    assert kalshi.startswith("1 open position on Kalshi, LIVE: real money")
    assert "YES 7 sh avg 0.400" in kalshi and "Kalshi: Will the live test pass?" in kalshi
    assert "/flatten" not in kalshi
    listed = replies.orders(settings).split("\n\n")
    assert listed[-1].startswith("1 open order on Kalshi, LIVE: real money")
    assert "SELL YES 7 @ 0.450 GTC LIVE" in listed[-1]
    with sqlite3.connect(db) as conn:  # Kalshi back on paper, a paper position there: one mode, one list
        conn.execute("UPDATE venue_modes SET mode = 'paper' WHERE venue = 'kalshi'")
        conn.execute("""UPDATE positions SET mode = 'paper' WHERE venue = 'kalshi'""")
    one = replies.positions(settings)
    assert "\n\n" not in one and one.startswith("2 open positions (paper)")
    kalshi_row = one[one.index("Kalshi: Will the live test pass?"):]
    assert "/flatten" not in kalshi_row.split("\n•")[0]  # its own row carries none; the desk's rows do
    assert replies.held_markets(settings, "kalshi:KXLIVE") == []  # /flatten does not sell Kalshi's ledger


def test_positions_and_orders_list_the_paper_ledger_apart_on_a_live_desk(tmp_path: Path) -> None:
    """On a live desk, the strategies not promoted trade on the paper ledger: /positions and /orders list
    the live ledger, then the paper ledger's apart, said to be paper money and with no /flatten line (flatten
    sells the live ledger, where the ledger's positions are not)."""
    db = tmp_path / "t.db"
    migrate(db)
    seed(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE engine_state SET mode = 'live'")
        conn.execute("UPDATE venue_modes SET mode = 'live' WHERE venue = 'kalshi'")
        conn.execute("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'")
        paper_positions = conn.execute("SELECT COUNT(*) FROM positions WHERE mode = 'paper' "
                                       "AND settled + pending != 0").fetchone()[0]
        paper_orders = conn.execute("SELECT COUNT(*) FROM orders WHERE mode = 'paper' AND status_rank < 100"
                                    ).fetchone()[0]
    assert paper_positions and paper_orders  # the seeded paper ledger has both
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(db)})
    live, ledger = replies.positions(settings).split("\n\n")
    assert live == "No open positions (live)."
    assert ledger.startswith(f"{paper_positions} open position{'s' if paper_positions != 1 else ''} on the paper "
                           "ledger (paper-only strategies: paper money)")
    assert "mm-btc" in ledger and "/flatten" not in ledger
    live_orders, ledger_orders = replies.orders(settings).split("\n\n")
    assert live_orders.startswith("1 open order (live)")  # the seeded live order
    assert ledger_orders.startswith(f"{paper_orders} open order{'s' if paper_orders != 1 else ''} on the paper ledger")


def test_kalshi_live_on_its_demo_is_never_called_real_money(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    seed(db)
    with sqlite3.connect(db) as conn:
        conn.execute("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]', live = 1 WHERE name = 'mm-btc'""")
        conn.execute("UPDATE venue_modes SET mode = 'live', "
                     "host = 'https://demo-api.kalshi.co/trade-api/v2' WHERE venue = 'kalshi'")  # mock funds
    said = "\n".join(status_lines(_report(db), now_ms()))
    assert "Kalshi LIVE on demo-api.kalshi.co: no real money" in said
    assert "LIVE on Kalshi (no real money (demo-api.kalshi.co))" in said and "— real money" not in said
