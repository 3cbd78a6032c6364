"""Numbered migrations: the schema's single source of truth, one module per migration.

Rules: an applied migration is never edited; a change is a new migration at the end. Nothing
mirrors the result by hand: tests/storage/test_migrations.py reads it back (`PRAGMA table_info`)
against the conventions, and prepares every SQL statement of the code against it. Column
conventions are in storage/sqlite/db.py (micro-units, epoch milliseconds).
Migrations run only at engine start-up, under the engine's single-instance lock.

They apply in the order of `ORDER`, not by number (a few were numbered apart and merged later),
and a database records each by its name, so a name never changes once released.

Adding one: a module `m00NN_<what>.py` here holding `def up(db: UtilsDatabase) -> None` (its
docstring says why; `common.ddl` runs a DDL script), its name `00NN_<what>` as the last line of
`ORDER`, then `.venv/bin/python -m storage.sqlite.fresh_schema` to regenerate the snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from storage.sqlite import fresh_schema
from storage.sqlite.db import immediate, now_ms, raw_connection
from storage.sqlite.utils_lib import Database as UtilsDatabase
from storage.sqlite.utils_lib import Migrations

MIGRATION_SET = "trader"

# The order they apply in; each name is its module's, `m` before it (tests/storage/test_migration_files.py).
ORDER: tuple[str, ...] = (
    "0001_foundation",
    "0002_markets",
    "0003_execution",
    "0004_risk",
    "0005_recording",
    "0006_decision_markers",
    "0007_position_fills_index",
    "0008_venue_status",
    "0009_strategy_selection",
    "0010_paper_expiry",
    "0011_strategy_risk",
    "0012_notifications",
    "0013_dashboard_sessions",
    "0014_notify_channels_and_events",
    "0015_login_budget",
    "0016_news_and_regimes",
    "0017_fill_status_not_broadcasted",
    "0018_venue_conditions",
    "0019_positions_end_in_cash",
    "0020_backtest_orders",
    "0021_liquidity_rewards",
    "0022_recording_sessions",
    "0023_alert_subject",
    "0024_fill_markouts",
    "0029_market_origin_and_quarantine",
    "0030_market_events",
    "0035_alert_repeats",
    "0036_game_start",
    "0040_market_payouts",
    "0041_run_latency",
    "0042_strategy_pause_delete",
    "0043_data_age",
    "0044_resolution_status",
    "0045_forecasts",
    "0046_news_sentiment",
    "0047_followed_trades",
    "0048_indicator_values",
    "0049_strategy_live",
    "0050_venue_pairs",
    "0051_paper_lane_memory",
    "0052_ledger_venue",
    "0053_venue_risk",
    "0054_kalshi_mode",
    "0075_order_end_reason",
    "0076_listed_prices",
    "0080_outside_signals",
    "0081_odds_links",
    "0070_history_as_it_was",
    "0071_run_capital",
    "0065_last_pass",
    "0066_session_imports",
    "0085_paper_v2_redemptions",
    "0086_strategy_memory",
    "0087_updown_windows",
    "0088_follow_stream",
    "0089_wallet_scores",
    "0055_kalshi_market_facts",
    "0056_kalshi_exchange",
    "0057_kalshi_fee_changes",
    "0060_paper_until_promoted",
    "0061_engine_reads",
    "0062_preflight_runs",
    "0090_one_ledger_risk_store",
    "0091_order_trail",
    "0092_candles",
    "0093_ledger_resolutions",
    "0094_venue_rate_tier",
    "0095_market_rebates_and_resolution_trail",
    "0096_value_betting_floor",
    "0097_poll_links",
    "0098_dashboard_users",
    "0099_venue_modes",
    "0100_paper_trades_matched",
    "0141_pair_suggestions",
    "0142_strategy_templates",
    "0126_kalshi_exchange_index",
    "0127_venue_funds",
    "0146_market_resolutions",
    "0166_order_amends",
    "0171_standing_orders",
)



def _step(name: str) -> Callable[[UtilsDatabase], None]:
    """The migration `name`, its module imported only when it runs: an up-to-date database, or a new
    one built from the snapshot, runs none, and a start then reads none of them."""
    module = f"{__name__}.m{name}"

    def up(db: UtilsDatabase) -> None:
        import_module(module).up(db)

    up.__name__ = f"m{name}"
    return up


m = Migrations(MIGRATION_SET)
for _name in ORDER:
    m(name=_name)(_step(_name))


class SchemaTooNew(RuntimeError):
    """The database was migrated by newer code than this checkout."""


def known_names() -> list[str]:
    return [migration.name for migration in m._migrations]


def applied_names(conn: sqlite3.Connection) -> list[str]:
    return [applied.name for applied in m.applied(UtilsDatabase(conn))]


def pending_names(conn: sqlite3.Connection) -> list[str]:
    return [migration.name for migration in m.pending(UtilsDatabase(conn))]


def check_not_newer(conn: sqlite3.Connection) -> None:
    """Refuse a database that has migrations this code does not know."""
    unknown = sorted(set(applied_names(conn)) - set(known_names()))
    if unknown:
        raise SchemaTooNew(
            "the database schema is newer than this code "
            f"(unknown migrations: {', '.join(unknown)}). "
            "Update the code (git pull) or point TRADER_DB at a database made by this version."
        )


def migrate(path: Path) -> list[str]:
    """Apply every pending migration in one IMMEDIATE transaction; return their names. An empty
    database is built from the migrations' snapshot while it is current (storage/sqlite/fresh_schema.py)."""
    return _migrate(path, fresh_schema.read_snapshot())


def migrate_one_by_one(path: Path) -> list[str]:
    """`migrate`, running every pending migration even on an empty database (what the snapshot is made from)."""
    return _migrate(path, None)


def _migrate(path: Path, snapshot: fresh_schema.Snapshot | None) -> list[str]:
    conn = raw_connection(path, synchronous="FULL")
    try:
        check_not_newer(conn)
        before = set(applied_names(conn))
        with immediate(conn):
            if snapshot is not None and snapshot.migrations == tuple(known_names()) and fresh_schema.is_empty(conn):
                fresh_schema.build(conn, snapshot, MIGRATION_SET, now_ms())
            else:
                # Inside our transaction, sqlite-utils nests each migration in a SAVEPOINT.
                m.apply(UtilsDatabase(conn))
        return [name for name in applied_names(conn) if name not in before]
    finally:
        conn.close()


def is_migrated(path: Path) -> bool:
    """True when the file exists and has every migration this code knows."""
    if not path.exists():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return not pending_names(conn)
    except sqlite3.Error:
        return False
    finally:
        conn.close()
