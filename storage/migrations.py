"""Numbered migrations: the schema's single source of truth.

Rules: an applied migration is never edited; a change is a new function at the end.
`storage/models.py` mirrors the result, and tests/storage/test_migrations.py proves the
two agree. Column conventions are in storage/db.py (micro-units, epoch milliseconds).
Migrations run only at engine start-up, under the engine's single-instance lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database as UtilsDatabase
from sqlite_utils import Migrations

from storage.db import immediate, now_ms, raw_connection

MIGRATION_SET = "trader"
m = Migrations(MIGRATION_SET)


class SchemaTooNew(RuntimeError):
    """The database was migrated by newer code than this checkout."""


def _ddl(db: UtilsDatabase, script: str) -> None:
    # executescript() would COMMIT the surrounding transaction; run statements one by one.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@m(name="0001_foundation")
def _0001_foundation(db: UtilsDatabase) -> None:
    _ddl(
        db,
        """
        CREATE TABLE engine_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            state TEXT NOT NULL DEFAULT 'IDLE',
            desired_state TEXT NOT NULL DEFAULT 'STOPPED'
                CHECK (desired_state IN ('RUNNING', 'PAUSED', 'STOPPED')),
            mode TEXT NOT NULL DEFAULT 'paper' CHECK (mode IN ('paper', 'live')),
            pid INTEGER,
            started_at INTEGER,
            heartbeat_at INTEGER,
            kill_latched INTEGER NOT NULL DEFAULT 0 CHECK (kill_latched IN (0, 1)),
            killed_at INTEGER,
            kill_reason TEXT,
            crash_count INTEGER NOT NULL DEFAULT 0,
            recent_crashes TEXT NOT NULL DEFAULT '[]',
            clean_exit INTEGER NOT NULL DEFAULT 1 CHECK (clean_exit IN (0, 1)),
            last_error TEXT,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE commands (
            id INTEGER PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            priority INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'claimed', 'done', 'failed', 'expired')),
            actor TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            claimed_at INTEGER,
            finished_at INTEGER,
            result TEXT,
            error TEXT
        );
        CREATE INDEX ix_commands_queue ON commands (status, priority, id);
        CREATE INDEX ix_commands_created ON commands (created_at);
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE risk_limits (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE strategies (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            markets TEXT NOT NULL DEFAULT '[]',
            enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
            version INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
            source TEXT NOT NULL,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            acked_at INTEGER,
            acked_by TEXT
        );
        CREATE INDEX ix_alerts_created ON alerts (created_at);
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        CREATE INDEX ix_audit_log_at ON audit_log (at)
        """,
    )
    db.execute("INSERT INTO engine_state (id, updated_at) VALUES (1, ?)", [now_ms()])



@m(name="0002_markets")
def _0002_markets(db: UtilsDatabase) -> None:
    """Discovered markets (Gamma + CLOB metadata). Written by the engine's market refresh."""
    _ddl(
        db,
        """
        CREATE TABLE markets (
            condition_id TEXT PRIMARY KEY,
            gamma_id TEXT,
            question TEXT NOT NULL,
            slug TEXT,
            yes_token TEXT NOT NULL,
            no_token TEXT NOT NULL,
            outcomes TEXT NOT NULL DEFAULT '["Yes", "No"]',
            tick INTEGER NOT NULL,
            min_size INTEGER NOT NULL,
            neg_risk INTEGER NOT NULL DEFAULT 0 CHECK (neg_risk IN (0, 1)),
            neg_risk_market_id TEXT,
            end_at INTEGER,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            closed INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
            accepting_orders INTEGER NOT NULL DEFAULT 1 CHECK (accepting_orders IN (0, 1)),
            volume INTEGER NOT NULL DEFAULT 0,
            volume_24h INTEGER NOT NULL DEFAULT 0,
            liquidity INTEGER NOT NULL DEFAULT 0,
            tags TEXT NOT NULL DEFAULT '[]',
            gamma_version TEXT,
            fee_rate_ppm INTEGER NOT NULL DEFAULT 0,
            fee_exponent INTEGER NOT NULL DEFAULT 1,
            tradable INTEGER NOT NULL DEFAULT 1 CHECK (tradable IN (0, 1)),
            untradable_reason TEXT,
            resolved_outcome TEXT CHECK (resolved_outcome IN ('YES', 'NO')),
            first_seen_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_markets_yes_token ON markets (yes_token);
        CREATE INDEX ix_markets_no_token ON markets (no_token);
        CREATE INDEX ix_markets_group ON markets (neg_risk_market_id);
        CREATE INDEX ix_markets_end ON markets (end_at)
        """,
    )


@m(name="0003_execution")
def _0003_execution(db: UtilsDatabase) -> None:
    """Orders, fills, positions, cash ledger and portfolio snapshots (executor-owned), and the
    paper venue's own book of resting orders and trades (paper-venue-owned)."""
    _ddl(
        db,
        """
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            client_id TEXT NOT NULL UNIQUE,
            venue_order_id TEXT,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            filled INTEGER NOT NULL DEFAULT 0,
            tif TEXT NOT NULL CHECK (tif IN ('GTC', 'GTD', 'FOK', 'FAK')),
            post_only INTEGER NOT NULL DEFAULT 0 CHECK (post_only IN (0, 1)),
            expires_at INTEGER,
            status TEXT NOT NULL,
            status_rank INTEGER NOT NULL,
            signed_payload TEXT,
            error TEXT,
            flags TEXT NOT NULL DEFAULT '',
            reason TEXT,
            created_at INTEGER NOT NULL,
            submitted_at INTEGER,
            acked_at INTEGER,
            updated_at INTEGER NOT NULL,
            closed_at INTEGER
        );
        CREATE UNIQUE INDEX ux_orders_venue_id ON orders (mode, venue_order_id);
        CREATE INDEX ix_orders_open ON orders (mode, status_rank);
        CREATE INDEX ix_orders_market ON orders (condition_id);
        CREATE INDEX ix_orders_strategy ON orders (strategy);
        CREATE INDEX ix_orders_created ON orders (created_at);
        CREATE TABLE fills (
            id INTEGER PRIMARY KEY,
            trade_id TEXT NOT NULL,
            order_id INTEGER NOT NULL REFERENCES orders (id),
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            fee INTEGER NOT NULL DEFAULT 0,
            liquidity TEXT NOT NULL CHECK (liquidity IN ('MAKER', 'TAKER')),
            status TEXT NOT NULL CHECK (status IN ('MATCHED', 'MINED', 'CONFIRMED', 'RETRYING', 'FAILED')),
            status_rank INTEGER NOT NULL,
            matched_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (trade_id, order_id)
        );
        CREATE INDEX ix_fills_order ON fills (order_id);
        CREATE INDEX ix_fills_market ON fills (mode, condition_id);
        CREATE INDEX ix_fills_matched ON fills (matched_at);
        CREATE TABLE positions (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            token_id TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            settled INTEGER NOT NULL DEFAULT 0,
            pending INTEGER NOT NULL DEFAULT 0,
            cost INTEGER NOT NULL DEFAULT 0,
            realized INTEGER NOT NULL DEFAULT 0,
            fees INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, strategy, token_id)
        );
        CREATE INDEX ix_positions_market ON positions (mode, condition_id);
        CREATE TABLE cash_ledger (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'settlement', 'adjustment')),
            amount INTEGER NOT NULL,
            ref TEXT NOT NULL,
            note TEXT,
            UNIQUE (mode, kind, ref)
        );
        CREATE TABLE portfolio_snapshots (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'daily')),
            cash INTEGER NOT NULL,
            positions_value INTEGER NOT NULL,
            liquidation_value INTEGER NOT NULL,
            equity INTEGER NOT NULL,
            realized INTEGER NOT NULL,
            unrealized INTEGER NOT NULL,
            fees INTEGER NOT NULL,
            exposure INTEGER NOT NULL
        );
        CREATE INDEX ix_snapshots_mode_at ON portfolio_snapshots (mode, at);
        CREATE TABLE paper_orders (
            venue_order_id TEXT PRIMARY KEY,
            token_id TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            filled INTEGER NOT NULL DEFAULT 0,
            queue_ahead INTEGER NOT NULL DEFAULT 0,
            tif TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_paper_orders_status ON paper_orders (status);
        CREATE TABLE paper_trades (
            trade_id TEXT PRIMARY KEY,
            venue_order_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            fee INTEGER NOT NULL DEFAULT 0,
            liquidity TEXT NOT NULL CHECK (liquidity IN ('MAKER', 'TAKER')),
            status TEXT NOT NULL,
            matched_at INTEGER NOT NULL,
            settle_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_paper_trades_order ON paper_trades (venue_order_id);
        CREATE INDEX ix_paper_trades_status ON paper_trades (status)
        """,
    )


@m(name="0004_risk")
def _0004_risk(db: UtilsDatabase) -> None:
    """Trading state (ACTIVE/REDUCING/HALTED), the risk gate's decisions log, operator and
    external fair-value signals, and the engine's per-strategy error status."""
    _ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN trading_state TEXT NOT NULL DEFAULT 'ACTIVE'
            CHECK (trading_state IN ('ACTIVE', 'REDUCING', 'HALTED'));
        ALTER TABLE engine_state ADD COLUMN trading_state_reason TEXT;
        ALTER TABLE engine_state ADD COLUMN trading_state_at INTEGER;
        ALTER TABLE engine_state ADD COLUMN peak_equity INTEGER;
        ALTER TABLE engine_state ADD COLUMN day_start_equity INTEGER;
        ALTER TABLE engine_state ADD COLUMN day_started_at INTEGER;
        ALTER TABLE strategies ADD COLUMN status TEXT NOT NULL DEFAULT 'ok'
            CHECK (status IN ('ok', 'error'));
        ALTER TABLE strategies ADD COLUMN last_error TEXT;
        ALTER TABLE strategies ADD COLUMN error_at INTEGER;
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            side TEXT NOT NULL,
            price INTEGER NOT NULL,
            requested INTEGER NOT NULL,
            approved INTEGER NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('resize', 'deny')),
            reason TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX ix_decisions_at ON decisions (at);
        CREATE INDEX ix_decisions_reason ON decisions (reason);
        CREATE TABLE signals (
            condition_id TEXT NOT NULL,
            source TEXT NOT NULL,
            fair_value INTEGER NOT NULL CHECK (fair_value BETWEEN 0 AND 1000000),
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (condition_id, source)
        )
        """,
    )



@m(name="0005_recording")
def _0005_recording(db: UtilsDatabase) -> None:
    """Recorded market data (for charts and backtests), imported price history with its
    resumable progress, and backtest runs with their results."""
    _ddl(
        db,
        """
        CREATE TABLE ticks (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            token_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('book', 'change', 'trade')),
            side TEXT CHECK (side IN ('BUY', 'SELL')),
            price INTEGER,
            size INTEGER,
            mid INTEGER,
            data TEXT
        );
        CREATE INDEX ix_ticks_token_at ON ticks (token_id, at);
        CREATE INDEX ix_ticks_at ON ticks (at);
        CREATE TABLE price_history (
            token_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            price INTEGER NOT NULL,
            PRIMARY KEY (token_id, at)
        );
        CREATE TABLE import_progress (
            token_id TEXT NOT NULL,
            from_at INTEGER NOT NULL,
            to_at INTEGER NOT NULL,
            done_until INTEGER NOT NULL,
            points INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (token_id, from_at, to_at)
        );
        CREATE TABLE strategy_runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            finished_at INTEGER,
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
            strategy_kind TEXT NOT NULL,
            params TEXT NOT NULL,
            markets TEXT NOT NULL,
            from_at INTEGER NOT NULL,
            to_at INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('recorded', 'history')),
            progress INTEGER NOT NULL DEFAULT 0,
            events INTEGER NOT NULL DEFAULT 0,
            metrics TEXT,
            equity_curve TEXT,
            trades TEXT,
            error TEXT,
            pid INTEGER
        );
        CREATE INDEX ix_strategy_runs_created ON strategy_runs (created_at)
        """,
    )



@m(name="0006_decision_markers")
def _0006_decision_markers(db: UtilsDatabase) -> None:
    """Recorded ticks gain 'decide' markers (the moments the live engine decided), so a
    backtest decides at exactly the same points of the event stream. A change row now holds
    all the level changes of one book update in `data` ([[is_bid, price, size], ...])."""
    _ddl(
        db,
        """
        CREATE TABLE ticks_new (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            token_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('book', 'change', 'trade', 'decide')),
            side TEXT CHECK (side IN ('BUY', 'SELL')),
            price INTEGER,
            size INTEGER,
            mid INTEGER,
            data TEXT
        );
        INSERT INTO ticks_new (id, at, token_id, kind, side, price, size, mid, data)
            SELECT id, at, token_id, kind, side, price, size, mid, data FROM ticks;
        DROP TABLE ticks;
        ALTER TABLE ticks_new RENAME TO ticks;
        CREATE INDEX ix_ticks_token_at ON ticks (token_id, at);
        CREATE INDEX ix_ticks_at ON ticks (at)
        """,
    )


@m(name="0007_position_fills_index")
def _0007_position_fills_index(db: UtilsDatabase) -> None:
    """One position's fills in match order, found by index: the executor checks whether a
    new fill is the latest of its position (to step the position rather than refold it)."""
    db.execute("CREATE INDEX ix_fills_position ON fills (mode, strategy, token_id, matched_at, trade_id)")


@m(name="0008_venue_status")
def _0008_venue_status(db: UtilsDatabase) -> None:
    """Whether the venue takes orders now (ok, maintenance, post_only, rate_limited), for the
    dashboard's banner: the weekly matching-engine restart is a condition, not an error. And
    when a market's fee schedule was last read from the CLOB (NULL: never, so unknown, which
    is not the same as no fee)."""
    _ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN venue_status TEXT NOT NULL DEFAULT 'ok'
            CHECK (venue_status IN ('ok', 'maintenance', 'post_only', 'rate_limited'));
        ALTER TABLE engine_state ADD COLUMN venue_status_at INTEGER;
        ALTER TABLE engine_state ADD COLUMN venue_status_detail TEXT;
        ALTER TABLE markets ADD COLUMN fees_at INTEGER
        """,
    )


@m(name="0009_strategy_selection")
def _0009_strategy_selection(db: UtilsDatabase) -> None:
    """How many markets each strategy's market list or filter selects now, written by the
    engine when it changes: a strategy that selects nothing says so."""
    db.execute("""CREATE TABLE strategy_selection (
        name TEXT PRIMARY KEY,
        selected INTEGER NOT NULL,
        note TEXT,
        updated_at INTEGER NOT NULL
    )""")


@m(name="0010_paper_expiry")
def _0010_paper_expiry(db: UtilsDatabase) -> None:
    """When a paper GTD order expires (epoch ms; NULL for every other order): the paper venue
    takes it off the book as the real one does."""
    db.execute("ALTER TABLE paper_orders ADD COLUMN expires_at INTEGER")


@m(name="0011_strategy_risk")
def _0011_strategy_risk(db: UtilsDatabase) -> None:
    """Capital, loss limits and exits per strategy (edited like the global limits: versioned,
    audited), each strategy's own trading state and equity memory (written by the engine), and
    per-strategy snapshots for its performance curve."""
    _ddl(
        db,
        """
        CREATE TABLE strategy_limits (
            strategy TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (strategy, name)
        );
        CREATE TABLE strategy_risk (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            trading_state TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (trading_state IN ('ACTIVE', 'REDUCING', 'HALTED')),
            reason TEXT,
            state_at INTEGER,
            peak_equity INTEGER,
            day_start_pnl INTEGER,
            day_started_at INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, strategy)
        );
        CREATE TABLE strategy_snapshots (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            at INTEGER NOT NULL,
            realized INTEGER NOT NULL,
            unrealized INTEGER NOT NULL,
            fees INTEGER NOT NULL,
            exposure INTEGER NOT NULL
        );
        CREATE INDEX ix_strategy_snapshots ON strategy_snapshots (mode, strategy, at)
        """,
    )



@m(name="0012_notifications")
def _0012_notifications(db: UtilsDatabase) -> None:
    """Notifications (engine/notify/): each message queued for delivery through apprise (an alert,
    the daily summary, a test) with its delivery status, and the notifier's own progress: the
    last alert it has handled (so none is missed or repeated across restarts), when the last daily
    summary went out, and how many alerts the rate cap or de-duplication held back since the last
    message. Alerts already in the table are history: the cursor starts after them."""
    now = now_ms()
    _ddl(
        db,
        f"""
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('alert', 'summary', 'test')),
            alert_id INTEGER,
            dedup_key TEXT,
            level TEXT NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'warning', 'critical')),
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
            targets TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            last_attempt_at INTEGER,
            error TEXT
        );
        CREATE INDEX ix_notifications_queue ON notifications (status, next_attempt_at);
        CREATE INDEX ix_notifications_created ON notifications (created_at);
        CREATE TABLE notifier_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            alert_cursor INTEGER NOT NULL DEFAULT 0,
            summary_at INTEGER,
            suppressed TEXT NOT NULL DEFAULT '{{}}',
            updated_at INTEGER NOT NULL
        );
        INSERT INTO notifier_state (id, alert_cursor, summary_at, updated_at)
            SELECT 1, COALESCE(MAX(id), 0), {now}, {now} FROM alerts
        """,
    )

@m(name="0013_dashboard_sessions")
def _0013_dashboard_sessions(db: UtilsDatabase) -> None:
    """Dashboard logins that ended before their token expired (Log out): a signed session token
    in a revoked row is refused even though its signature and expiry still hold. Rows are
    dropped once the token would have expired anyway."""
    _ddl(
        db,
        """
        CREATE TABLE dashboard_sessions_revoked (
            session_id TEXT PRIMARY KEY,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER NOT NULL
        )
        """,
    )


@m(name="0014_backtest_orders")
def _0014_backtest_orders(db: UtilsDatabase) -> None:
    """A finished backtest keeps its orders beside its fills (JSON, at most 5,000): its results
    and its report draw the resting orders on the price, each over its lifetime."""
    db.execute("ALTER TABLE strategy_runs ADD COLUMN orders TEXT")


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
    """Apply every pending migration in one IMMEDIATE transaction; return their names."""
    conn = raw_connection(path, synchronous="FULL")
    try:
        check_not_newer(conn)
        before = set(applied_names(conn))
        with immediate(conn):
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
