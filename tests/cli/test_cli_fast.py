"""The quick subcommands import nothing of the trading stack: `status`, `command`, `alerts` run in
a subprocess, do their real work on a temp database (empty, and for `status` also a desk with a
day of data, whose equity, today's PnL, orders and positions per strategy, unacknowledged alerts
and venue health it must show), and then list what they imported. No time is measured here
(bench/cli.py does that); what would make them slow is asserted absent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env

# Run the CLI's main() in-process of a fresh interpreter, then report sys.modules on stderr.
DRIVER = (
    "import json, sys\n"
    "from engine.main import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "print('MODULES=' + json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    "sys.exit(code)\n"
)
# Each of these costs from a tenth of a second to seconds to import on a small VPS.
HEAVY = ("py_clob_client_v2", "pandas", "numpy", "engine.trading.core", "engine.backtest", "engine.venues",
         "sqlalchemy", "sqlmodel", "sqlite_utils", "apprise", "streamlit", "eth_account", "websockets",
         "apscheduler", "aiohttp", "httpx", "optuna", "plotly")


def _run(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    result = subprocess.run([sys.executable, "-c", DRIVER, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    marker = [line for line in result.stderr.splitlines() if line.startswith("MODULES=")]
    assert marker, result.stderr
    return result, json.loads(marker[0].removeprefix("MODULES="))


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY or any(m.startswith(h + ".") or m == h for h in HEAVY)]


@pytest.fixture
def desk_env(tmp_path: Path) -> dict[str, str]:
    env = isolated_env(tmp_path, NOTIFY_URLS="json://127.0.0.1:9/hook")
    migrate(Path(env["TRADER_DB"]))
    return env


def test_status_imports_no_trading_module(desk_env: dict[str, str]) -> None:
    result, modules = _run(desk_env, "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "IDLE" and report["notifications"]["destinations"] == ["json"]
    assert _heavy(modules) == []


def test_command_imports_no_trading_module(desk_env: dict[str, str]) -> None:
    result, modules = _run(desk_env, "command", "pause", "--no-wait")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "pending"
    assert _heavy(modules) == []
    refused, modules = _run(desk_env, "command", "pause", "{not json")
    assert refused.returncode == 2 and "not valid JSON" in refused.stderr
    assert _heavy(modules) == []


def test_alerts_list_imports_no_trading_module(desk_env: dict[str, str]) -> None:
    result, modules = _run(desk_env, "alerts", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == {"unacked": 0, "alerts": []}
    assert _heavy(modules) == []


M = 1_000_000


def _seed_desk(db_path: Path) -> None:
    """A paper desk mid-day, as the engine leaves it: snapshots from before and after 00:00 UTC,
    open and closed orders and positions in three books (one of them live: not counted), alerts
    acknowledged and not, and the venue in maintenance."""
    import sqlite3

    from storage.sqlite.lite import now_ms, utc_day_start

    now = now_ms()
    day = utc_day_start(now)
    with sqlite3.connect(db_path) as conn:
        conn.execute("""UPDATE engine_state SET state = 'RUNNING', desired_state = 'RUNNING', pid = 4242,
                            heartbeat_at = ?, day_start_equity = ?, day_started_at = ?, venue_status = 'maintenance',
                            venue_status_at = ?, venue_status_detail = 'the matching engine is restarting'""",
                     (now, 10_000 * M, day, now - 30_000))
        snapshot = """INSERT INTO portfolio_snapshots (mode, at, cash, positions_value, liquidation_value, equity,
                          realized, unrealized, fees, exposure) VALUES ('paper', ?, 0, 0, 0, ?, ?, ?, ?, 0)"""
        conn.execute(snapshot, (day - 3_600_000, 10_000 * M, 5 * M, 0, 1 * M))
        conn.execute(snapshot, (now, 10_123_450_000, 25 * M, -4 * M, 2_500_000))
        for name, enabled, paused in (("mm-btc", 1, 0), ("vb-election", 0, 0), ("mm-paused", 1, 1)):
            conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, paused, created_at,
                                updated_at, updated_by) VALUES (?, 'market_making', '{}', '[]', ?, ?, ?, ?, 'test')""",
                         (name, enabled, paused, now, now))
        orders = [  # (strategy, mode, side, price, size, status, rank)
            ("mm-btc", "paper", "BUY", 480_000, 10 * M, "LIVE", 10),
            ("mm-btc", "paper", "SELL", 520_000, 10 * M, "LIVE", 10),
            ("mm-btc", "paper", "BUY", 470_000, 20 * M, "FILLED", 100),
            ("manual", "paper", "BUY", 400_000, 5 * M, "LIVE", 10),
            ("mm-btc", "live", "BUY", 450_000, 5 * M, "LIVE", 10),
        ]
        for i, (strategy, mode, side, price, size, status, rank) in enumerate(orders):
            conn.execute("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side,
                                price, size, tif, status, status_rank, created_at, updated_at)
                            VALUES (?, ?, ?, '0xbtc', 'tok-yes', 'YES', ?, ?, ?, 'GTC', ?, ?, ?, ?)""",
                         (f"c{i}", mode, strategy, side, price, size, status, rank, now, now))
        positions = [  # (strategy, token, settled, pending, cost, realized, fees)
            ("mm-btc", "tok-yes", 10 * M, 0, 9_400_000, 1_250_000, 20_000),
            ("manual", "tok-no", 6 * M, 4 * M, 5_600_000, 0, 100_000),
            ("vb-election", "tok-el", 0, 0, 0, -3 * M, 50_000),
        ]
        for strategy, token, settled, pending, cost, realized, fees in positions:
            conn.execute("""INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled, pending,
                                cost, realized, fees, updated_at)
                            VALUES ('paper', ?, ?, '0xbtc', 'YES', ?, ?, ?, ?, ?, ?)""",
                         (strategy, token, settled, pending, cost, realized, fees, now))
        conn.execute("""INSERT INTO alerts (created_at, level, source, code, message, acked_at, acked_by) VALUES
                            (?, 'warning', 'risk', 'DAILY_LOSS', 'trading state REDUCING', NULL, NULL),
                            (?, 'critical', 'engine', 'VENUE_UNREACHABLE', 'the venue has not answered', NULL, NULL),
                            (?, 'info', 'engine', 'FEED_DOWN_CLEARED', 'the feed is back', ?, 'cli')""",
                     (now - 60_000, now - 30_000, now - 90_000, now - 10_000))


def _row(lines: list[str], name: str) -> list[str]:
    (found,) = [line.split() for line in lines if line.startswith(f"  {name} ")]
    return found


def test_status_with_a_day_of_data_shows_the_desk_and_imports_no_trading_module(desk_env: dict[str, str]) -> None:
    _seed_desk(Path(desk_env["TRADER_DB"]))
    result, modules = _run(desk_env, "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("engine     RUNNING (wants RUNNING), PAPER")
    assert any(line.startswith("venue      maintenance since ") and line.endswith(": the matching engine is "
                                                                                "restarting") for line in lines)
    # Today's PnL and parts that add up on the line (issue 87): realized after fees, the unrealized change since
    # the day began, and what no trade made (this seed's equity moved 108.95 more than its trades did).
    assert ("equity     10,123.45 pUSD; today +123.45 = realized after fees +18.50 (fees 1.50) + unrealized change "
            "-4.00 + other +108.95") in lines
    assert "orders     3 open; 2 positions (cost 15.00 pUSD)" in lines  # paper only, working orders only
    # strategy, state (the Strategies page's words), open orders, positions, exposure (held cost + open BUYs),
    # realized after fees, fees
    assert _row(lines, "mm-btc") == ["mm-btc", "on", "2", "1", "14.20", "+1.23", "0.02"]
    assert _row(lines, "manual") == ["manual", "—", "1", "1", "7.60", "-0.10", "0.10"]
    assert _row(lines, "vb-election") == ["vb-election", "off", "0", "0", "0.00", "-3.05", "0.05"]
    assert _row(lines, "mm-paused") == ["mm-paused", "paused", "0", "0", "0.00", "+0.00", "0.00"]
    assert any(line.startswith("alerts     2 not acknowledged") for line in lines)
    shown = [line for line in lines if line.startswith("  #")]
    assert [line.split()[4:6] for line in shown] == [["critical", "VENUE_UNREACHABLE:"], ["warning", "DAILY_LOSS:"]]
    assert "notify     1 destination (json)" in lines
    assert _heavy(modules) == []


def test_status_names_every_venue_condition_and_never_says_ok_while_one_holds(desk_env: dict[str, str]) -> None:
    """The phase is ok, but the venue has not answered for a while and the wallet drifted: status
    says both (text and JSON), not "venue ok"."""
    import sqlite3

    from storage.sqlite.lite import now_ms

    now = now_ms()
    conditions = [{"code": "unreachable", "since": now - 45_000, "detail": "no answer from the venue for over 30 s"},
                  {"code": "balance_drift", "since": now - 5_000, "detail": "differs by +12.00 pUSD"}]
    with sqlite3.connect(desk_env["TRADER_DB"]) as conn:
        conn.execute("UPDATE engine_state SET venue_conditions = ?", (json.dumps(conditions),))
    result, _ = _run(desk_env, "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "venue      ok" not in lines
    assert any(line.startswith("venue      unreachable since ") and line.endswith("for over 30 s") for line in lines)
    assert any(line.startswith("           balance drift since ") for line in lines)
    as_json, _ = _run(desk_env, "status", "--json")
    venue = json.loads(as_json.stdout)["venue"]
    assert venue["ok"] is False and [c["code"] for c in venue["conditions"]] == ["unreachable", "balance_drift"]
    tier = {"tier": "gold", "read_at": now - 60_000, "order_rate": 400, "order_burst": 600, "cancel_rate": 800,
            "cancel_burst": 1200}
    with sqlite3.connect(desk_env["TRADER_DB"]) as conn:
        conn.execute("UPDATE engine_state SET venue_conditions = '[]', venue_tier = ?", (json.dumps(tier),))
    lines = _run(desk_env, "status")[0].stdout.splitlines()
    assert "venue      ok" in lines  # the tier the live desk paces by is said beside it, not as a condition
    assert any(line.startswith("rate tier  gold: orders 400/s (burst 600), cancels 800/s (burst 1200), read from "
                               "the venue ") for line in lines)
