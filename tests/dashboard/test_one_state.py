"""One state everywhere: the header, `engine status` (a real process), Telegram's /status and the
metrics say what storage/desk/desk_state.py says, for a killed desk (never "trading ACTIVE", though
its breakers' state reads ACTIVE), a halted one, a stopped one; and "real money" only against a
real venue (the hosts the engine recorded at its start)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.settings import load_settings
from engine.metrics import DeskCollector
from engine.telegram_bot import replies
from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import fresh_heartbeat
from tests.dashboard.reading import as_read
from tests.helpers import isolated_env, run_cli

SIMULATOR = "http://127.0.0.1:8080"
REAL = "https://clob.polymarket.com"

CASES: dict[str, tuple[dict[str, object], str, str, str]] = {
    # name: (engine_state columns, the desk's label, its code, the mode badge)
    "killed": ({"state": "KILLED", "kill_latched": 1, "kill_reason": "news spike", "trading_state": "ACTIVE",
                "mode": "live", "venue_host": REAL}, "KILLED: no orders", "KILLED", "LIVE — real money"),
    "halted": ({"state": "RUNNING", "trading_state": "HALTED", "trading_state_reason": "ERROR_RATE",
                "mode": "paper"}, "HALTED: no new orders", "HALTED", "PAPER"),
    "stopped on the simulator": ({"state": "STOPPED", "trading_state": "ACTIVE", "mode": "live",
                                  "venue_host": SIMULATOR}, "STOPPED: not trading", "STOPPED",
                                 "LIVE on 127.0.0.1: no real money"),
    "trading": ({"state": "RUNNING", "trading_state": "ACTIVE", "mode": "paper"}, "trading ACTIVE", "TRADING",
                "PAPER"),
}


def _engine_row(db: Database, columns: dict[str, object]) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in columns)
    with db.write() as conn:
        conn.execute(text(f"UPDATE engine_state SET {sets}, heartbeat_at = :beat, pid = 7"),
                     {**columns, "beat": fresh_heartbeat()})


@pytest.mark.parametrize("case", CASES)
def test_every_surface_says_the_one_state(case: str, db: Database, dash_env: Path, tmp_path: Path,
                                          logged_in: Callable[[], AppTest]) -> None:
    columns, label, code, badge = CASES[case]
    _engine_row(db, columns)
    header = [m.value for m in logged_in().markdown]  # st.badge renders as markdown
    assert any(m.endswith(f"[{label}]") for m in header), header
    assert any(badge in m for m in header), header
    assert not any("trading ACTIVE" in m for m in header) or code == "TRADING"

    env = isolated_env(tmp_path, TRADER_DB=str(dash_env))
    done = run_cli(["status"], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith(f"desk       {label}"), lines
    assert badge in lines[0]
    assert ("trading ACTIVE" in done.stdout) == (code == "TRADING")

    said = replies.status(load_settings(env))  # Telegram's /status
    assert f"desk       {label}" in said and ("trading ACTIVE" in said) == (code == "TRADING")

    scraped = {(s.name, tuple(s.labels.values())): s.value for family in DeskCollector(dash_env).collect()
               for s in family.samples}
    assert scraped[("desk_state", (code,))] == 1
    assert sum(v for (name, _), v in scraped.items() if name == "desk_state") == 1
    assert scraped[("desk_trading_state", ("ACTIVE",))] == int(code == "TRADING")


def _strategy(db: Database, name: str, selected: int) -> None:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES (:n, 'market_making', '{}', '[]', 1, 0, 0, 't')"""), {"n": name})
        conn.execute(text("INSERT INTO strategy_selection (name, selected, updated_at) VALUES (:n, :s, 0)"),
                     {"n": name, "s": selected})


def test_a_running_desk_that_places_nothing_says_why(db: Database, dash_env: Path, tmp_path: Path,
                                                     logged_in: Callable[[], AppTest]) -> None:
    _engine_row(db, {"state": "RUNNING", "trading_state": "ACTIVE", "mode": "paper"})
    _strategy(db, "mm", 3)
    _strategy(db, "picky", 0)
    now = now_ms()
    with db.write() as conn:
        for n in range(4):  # an exit's cool-down keeps mm out of its market
            conn.execute(text("""INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested,
                                     approved, action, reason) VALUES (:at, 'paper', 'mm', '0xc', 'BUY', 500000,
                                     20000000, 0, 'deny', 'EXIT_COOLDOWN')"""), {"at": now - n * 1000})
    shown = as_read(" ".join(i.value for i in logged_in().info))
    assert "Running, but no order is working" in shown and "picky selects no market" in shown
    assert "mm: an exit's cool-down keeps it out of the market (EXIT_COOLDOWN, 4 refusals" in shown
    said = run_cli(["status"], isolated_env(tmp_path, TRADER_DB=str(dash_env))).stdout
    assert "idle       mm: an exit's cool-down keeps it out of the market" in said
    with db.write() as conn:  # an order working: nothing to explain
        conn.execute(text("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side,
                                 price, size, tif, status, status_rank, created_at, updated_at)
                             VALUES ('c1', 'paper', 'mm', '0xc', 't', 'YES', 'BUY', 500000, 20000000, 'GTC', 'LIVE',
                                     10, 0, 0)"""))
    assert not any("no order is working" in i.value for i in logged_in().info)


def test_a_desk_that_cannot_decide_is_that_on_every_surface(db: Database, dash_env: Path, tmp_path: Path,
                                                            logged_in: Callable[[], AppTest]) -> None:
    _engine_row(db, {"state": "RUNNING", "trading_state": "ACTIVE", "mode": "paper",
                     "last_pass_at": now_ms() - 60_000})  # its last trading pass a minute old
    header = [m.value for m in logged_in().markdown]
    assert any(m.endswith("[CANNOT DECIDE]") for m in header) and not any("trading ACTIVE" in m for m in header)
    said = run_cli(["status"], isolated_env(tmp_path, TRADER_DB=str(dash_env))).stdout.splitlines()
    assert said[1].startswith("desk       CANNOT DECIDE (no trading pass has completed for")
    scraped = {(s.name, tuple(s.labels.values())): s.value for family in DeskCollector(dash_env).collect()
               for s in family.samples}
    assert scraped[("desk_state", ("CANNOT_DECIDE",))] == 1 and scraped[("desk_trading_state", ("ACTIVE",))] == 0
