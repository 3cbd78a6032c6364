"""The live panels' probes (storage/dashboard_queries/change_probes.py) on a seeded desk: the engine's
heartbeat alone changes none of them, and each change a panel shows changes the probe it redraws by."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import pytest
from sqlalchemy import text

from storage.dashboard_queries import change_probes as probes
from storage.engine_stores import engine_state
from storage.sqlite.db import Database, now_ms
from tests.dashboard.seed import YES_BTC

ALL: dict[str, Callable[[Database], Hashable]] = {
    name: getattr(probes, name) for name in ("engine", "ledger", "recent_orders", "config", "commands", "alerts",
                                             "backtests", "desk", "desk_and_idle", "desk_and_alerts", "desk_and_rate")}


def _read(db: Database) -> dict[str, Hashable]:
    return {name: probe(db) for name, probe in ALL.items()}


def _write(db: Database, sql: str, **params: object) -> None:
    with db.write() as conn:
        conn.execute(text(sql), {"now": now_ms(), **params})


def test_the_heartbeat_alone_changes_no_probe(db: Database, seeded: int) -> None:
    engine_state.heartbeat(db)  # this process's pid on the engine's row: the beats below only beat
    before = _read(db)
    for _ in range(3):
        engine_state.heartbeat(db, data_age_ms=1234, last_pass_at=now_ms())
    assert _read(db) == before


CHANGES = {
    # what the engine or the operator does: the probe that must see it
    "an order placed": ("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side, price,
                           size, tif, status, status_rank, created_at, updated_at) SELECT 'probe-c', mode, strategy,
                           condition_id, token_id, outcome, side, price, size, tif, 'LIVE', 10, :now, :now
                           FROM orders LIMIT 1""", "ledger"),
    "an order's status moving": ("UPDATE orders SET status = 'CANCELED', status_rank = 100, updated_at = :now "
                                 "WHERE id = (SELECT MIN(id) FROM orders)", "ledger"),
    "a fill settling": ("UPDATE fills SET status = 'CONFIRMED', updated_at = :now "
                        "WHERE id = (SELECT MIN(id) FROM fills)", "ledger"),
    "a position's change": ("UPDATE positions SET settled = settled + 1, updated_at = :now "
                            "WHERE rowid = (SELECT MIN(rowid) FROM positions)", "ledger"),
    "a new valuation": ("""INSERT INTO portfolio_snapshots (mode, at, cash, positions_value, liquidation_value, equity,
                           realized, unrealized, fees, exposure) VALUES ('paper', :now, 1, 0, 0, 1, 0, 0, 0, 0)""",
                        "ledger"),
    "a held token's price moving": (f"INSERT INTO ticks (at, token_id, kind, mid) VALUES (:now, '{YES_BTC}', 'book', "
                                    "510000)", "ledger"),
    "a limit saved": ("UPDATE risk_limits SET version = version + 1, updated_at = :now "
                      "WHERE name = (SELECT MIN(name) FROM risk_limits)", "config"),
    "a strategy saved": ("UPDATE strategies SET updated_at = :now WHERE id = (SELECT MIN(id) FROM strategies)",
                         "config"),
    "a command answered": ("UPDATE commands SET status = 'done' WHERE id = (SELECT MAX(id) FROM commands)", "commands"),
    "an alert acknowledged": ("UPDATE alerts SET acked_at = :now WHERE id = (SELECT MAX(id) FROM alerts)", "alerts"),
    "the engine paused": ("UPDATE engine_state SET state = 'PAUSED'", "engine"),
    "its heartbeat gone stale": ("UPDATE engine_state SET heartbeat_at = :now - 60000", "engine"),
    "a venue's account section gone short": (
        """UPDATE engine_state SET venue_funds = '{"kalshi": {"shortfalls": [1]}}'""", "engine"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_each_change_a_panel_shows_changes_its_probe(db: Database, seeded: int, change: str) -> None:
    sql, probe = CHANGES[change]
    if probe == "commands":
        _write(db, "INSERT INTO commands (idempotency_key, kind, actor, created_at) VALUES ('k', 'pause', 't', :now)")
    before = ALL[probe](db)
    _write(db, sql)
    assert ALL[probe](db) != before, f"{change} is not seen by the {probe} probe"
