"""The metrics endpoint as Prometheus would scrape it: a real `python -m engine metrics` process on
a seeded desk's database, read over HTTP on 127.0.0.1 and parsed with Prometheus' own parser; the
figures are `engine status --json`'s, the venue's conditions are labels, the live placements' answer
times are quantiles, and a scrape after the engine stopped beating says so. A bad port is refused
with a clear message, never a traceback."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage.sqlite.migrations import migrate
from tests.dashboard.seed import seed
from tests.helpers import ROOT, isolated_env, wait_until

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        body = answer.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def _status(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-m", "engine", "status", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_scrape_reads_the_desk_as_status_does(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    db = Path(env["TRADER_DB"])
    migrate(db)
    now = seed(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE engine_state SET data_age_ms = 1500, venue_conditions = ?",
                     (json.dumps([{"code": "fills_dark", "since": now, "detail": "down"}]),))
        for n, answered_after in enumerate((90, 110, 130, 150, 400)):  # five live placements' round trips
            conn.execute("""INSERT INTO orders (client_id, venue_order_id, mode, strategy, condition_id, token_id,
                                outcome, side, price, size, filled, tif, post_only, status, status_rank, created_at,
                                updated_at, submitted_at, acked_at)
                            VALUES (?, ?, 'live', 'mm', 'c', 't', 'YES', 'BUY', 500000, 5000000, 0, 'GTC', 0,
                                    'CANCELED', 100, ?, ?, ?, ?)""",
                         (f"lat-{n}", f"v-lat-{n}", now, now, now, now + answered_after))
    status = _status(env)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "engine", "metrics", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        metrics = wait_until(lambda: _try_scrape(port), 60, 0.2, "the metrics endpoint to answer")
        assert metrics[("desk_equity_pusd", ())] == pytest.approx(status["equity_usdc"])
        assert metrics[("desk_pnl_today_pusd", ())] == pytest.approx(status["pnl_today_usdc"])
        desk = (("mode", status["mode"]), ("venue", "polymarket"))  # the desk's own ledger, labelled
        assert metrics[("desk_ledger_equity", desk)] == pytest.approx(status["equity_usdc"])
        assert metrics[("desk_ledger_pnl_today", desk)] == pytest.approx(status["pnl_today_usdc"])
        assert metrics[("desk_open_orders", ())] == status["open_orders"] > 0
        assert metrics[("desk_data_age_seconds", ())] == 1.5
        assert metrics[("desk_trading_state", (("state", "REDUCING"),))] == 1
        assert metrics[("desk_trading_state", (("state", "ACTIVE"),))] == 0
        assert metrics[("desk_venue_condition", (("condition", "fills_dark"),))] == 1
        assert metrics[("desk_venue_ok", ())] == 0
        assert metrics[("desk_order_round_trips", ())] == 5
        assert metrics[("desk_order_latency_seconds", (("quantile", "0.5"),))] == pytest.approx(0.13)
        assert metrics[("desk_order_latency_seconds", (("quantile", "0.99"),))] == pytest.approx(0.4)
        # After fees (1.25 realized less 0.02 of fees), as every surface reads a strategy's PnL.
        assert metrics[("desk_strategy_realized_pusd", (("strategy", "mm-btc"),))] == pytest.approx(1.23)
        # The engine stops beating: the next scrape shows it, with no engine to ask.
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE engine_state SET heartbeat_at = ?", (now - 600_000,))
        Path(str(db) + ".heartbeat").unlink(missing_ok=True)
        later = _scrape(port)
        assert later[("desk_engine_up", ())] == 0 and later[("desk_heartbeat_age_seconds", ())] >= 600
    finally:
        server.terminate()
        server.wait(timeout=30)


def _try_scrape(port: int) -> dict | None:
    try:
        return _scrape(port)
    except OSError:
        return None


def test_a_bad_port_is_refused_with_its_reason(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, METRICS_PORT="99999")
    done = subprocess.run([sys.executable, "-m", "engine", "metrics"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "METRICS_PORT='99999': a port number from 1 to 65535" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_grafana_dashboard_draws_only_what_the_endpoint_serves() -> None:
    import re

    from engine import metrics

    dashboard = json.loads((ROOT / "docs" / "grafana-desk.json").read_text())
    served = set(re.findall(r'"(desk_[a-z_]+)"', (ROOT / "engine" / "metrics.py").read_text()))
    assert served >= {"desk_equity_pusd", "desk_open_orders", "desk_heartbeat_age_seconds", "desk_data_age_seconds",
                      "desk_venue_condition", "desk_order_latency_seconds"}
    drawn = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"desk_[a-z_]+", target["expr"])}
    assert drawn and drawn <= served, drawn - served
    assert metrics.DEFAULT_PORT == 9464
