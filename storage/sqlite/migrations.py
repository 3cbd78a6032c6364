"""Numbered migrations: the schema's single source of truth.

Rules: an applied migration is never edited; a change is a new function at the end. Nothing
mirrors the result by hand: tests/storage/test_migrations.py reads it back (`PRAGMA table_info`)
against the conventions, and prepares every SQL statement of the code against it. Column
conventions are in storage/sqlite/db.py (micro-units, epoch milliseconds).
Migrations run only at engine start-up, under the engine's single-instance lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.sqlite import fresh_schema
from storage.sqlite.db import immediate, now_ms, raw_connection
from storage.sqlite.utils_lib import Database as UtilsDatabase
from storage.sqlite.utils_lib import Migrations

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


# Trade events for the notifier, written by triggers in the executor's own transaction, so no
# fill or order outcome is missed or seen twice and the trading code does not change for them:
# a new fill; an order the venue refused (REJECTED); a resting order (GTC/GTD) that ended
# CANCELED without our asking (our own cancels pass through CANCEL_PENDING; takes that end
# unfilled are not news).
_EVENT_TRIGGERS = (
    """CREATE TRIGGER notify_fill AFTER INSERT ON fills WHEN NEW.status != 'FAILED'
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'fill', NEW.id); END""",
    """CREATE TRIGGER notify_refused_insert AFTER INSERT ON orders WHEN NEW.status = 'REJECTED'
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'refused', NEW.id); END""",
    """CREATE TRIGGER notify_refused AFTER UPDATE OF status ON orders
       WHEN NEW.status = 'REJECTED' AND OLD.status != 'REJECTED'
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'refused', NEW.id); END""",
    """CREATE TRIGGER notify_venue_cancel AFTER UPDATE OF status ON orders
       WHEN NEW.status = 'CANCELED' AND OLD.status IN ('LIVE', 'PARTIALLY_FILLED') AND NEW.tif IN ('GTC', 'GTD')
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'venue_cancel', NEW.id); END""",
)


@m(name="0014_notify_channels_and_events")
def _0014_notify_channels_and_events(db: UtilsDatabase) -> None:
    """Notifications by channel and for trade events (engine/notify/, engine/telegram_bot/):
    each queued message names its channel (apprise, or the Telegram bot, which delivers its own);
    trade events (fills, refused orders, orders the venue cancelled) reach the notifier through
    `notify_events`; what the hourly cap held back waits in `notify_digest`, counted per channel,
    event and strategy, until it goes out as one digest. The table is rebuilt because SQLite
    cannot widen a CHECK constraint."""
    _ddl(
        db,
        """
        CREATE TABLE notifications_new (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            channel TEXT NOT NULL DEFAULT 'apprise' CHECK (channel IN ('apprise', 'telegram')),
            kind TEXT NOT NULL CHECK (kind IN ('alert', 'summary', 'test', 'event', 'digest')),
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
        INSERT INTO notifications_new (id, created_at, kind, alert_id, dedup_key, level, title, body, status,
                                       targets, attempts, next_attempt_at, last_attempt_at, error)
            SELECT id, created_at, kind, alert_id, dedup_key, level, title, body, status, targets, attempts,
                   next_attempt_at, last_attempt_at, error FROM notifications;
        DROP TABLE notifications;
        ALTER TABLE notifications_new RENAME TO notifications;
        CREATE INDEX ix_notifications_queue ON notifications (channel, status, next_attempt_at);
        CREATE INDEX ix_notifications_created ON notifications (created_at);
        CREATE TABLE notify_events (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('fill', 'refused', 'venue_cancel')),
            ref INTEGER NOT NULL
        );
        CREATE TABLE notify_digest (
            channel TEXT NOT NULL,
            event TEXT NOT NULL,
            strategy TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_at INTEGER NOT NULL,
            last_at INTEGER NOT NULL,
            latest TEXT NOT NULL,
            PRIMARY KEY (channel, event, strategy)
        );
        ALTER TABLE notifier_state ADD COLUMN event_cursor INTEGER NOT NULL DEFAULT 0
        """,
    )
    for trigger in _EVENT_TRIGGERS:  # one statement each: their bodies hold semicolons
        db.execute(trigger)


@m(name="0015_login_budget")
def _0015_login_budget(db: UtilsDatabase) -> None:
    """The dashboard's password-guess budget (storage/dashboard_queries/login_budget.py), one row shared by every
    session and dashboard process: a token bucket in thousandths of a guess, and the failed or
    refused attempts of the current window (for the one alert a burst raises)."""
    _ddl(
        db,
        """
        CREATE TABLE login_budget (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            tokens_milli INTEGER NOT NULL,
            at_ms INTEGER NOT NULL,
            window_start_ms INTEGER NOT NULL,
            misses INTEGER NOT NULL DEFAULT 0,
            alerted_at_ms INTEGER
        )
        """,
    )


@m(name="0016_news_and_regimes")
def _0016_news_and_regimes(db: UtilsDatabase) -> None:
    """News in and regimes noted. A signal may expire (`expires_at`, NULL: never) and say what
    raised it (`detail`, e.g. the headline); `news_feeds` keeps each configured feed's polling
    status for the Markets page, and `news_seen` the entries already acted on, so a restart or
    the next poll never raises the same signal again. The decisions log takes `note` rows (the
    market maker's regime changes) beside trims and refusals: SQLite cannot change a CHECK, so
    the table is rebuilt with its rows and indexes."""
    _ddl(
        db,
        """
        ALTER TABLE signals ADD COLUMN expires_at INTEGER;
        ALTER TABLE signals ADD COLUMN detail TEXT;
        CREATE TABLE news_feeds (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            polled_at INTEGER,
            ok_at INTEGER,
            error TEXT,
            entries INTEGER NOT NULL DEFAULT 0,
            matched INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE news_seen (
            feed TEXT NOT NULL,
            entry_key TEXT NOT NULL,
            title TEXT NOT NULL,
            link TEXT,
            published_at INTEGER,
            seen_at INTEGER NOT NULL,
            signals INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (feed, entry_key)
        );
        CREATE INDEX ix_news_seen_at ON news_seen (seen_at);
        CREATE TABLE decisions_new (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            side TEXT NOT NULL,
            price INTEGER NOT NULL,
            requested INTEGER NOT NULL,
            approved INTEGER NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('resize', 'deny', 'note')),
            reason TEXT NOT NULL,
            detail TEXT
        );
        INSERT INTO decisions_new SELECT id, at, mode, strategy, condition_id, side, price, requested, approved,
            action, reason, detail FROM decisions;
        DROP TABLE decisions;
        ALTER TABLE decisions_new RENAME TO decisions;
        CREATE INDEX ix_decisions_at ON decisions (at);
        CREATE INDEX ix_decisions_reason ON decisions (reason)
        """,
    )


@m(name="0017_fill_status_not_broadcasted")
def _0017_fill_status_not_broadcasted(db: UtilsDatabase) -> None:
    """The venue's REST trades also say MATCHED_NOT_BROADCASTED (matched, settlement not yet
    sent): a pending fill status like MATCHED. SQLite cannot change a CHECK in place, so the
    fills table is rebuilt with every row, id and index as it was, and the notifier's trigger on
    new fills (0014) is made again: dropping the table dropped it."""
    columns = ("id, trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price, size, fee, "
               "liquidity, status, status_rank, matched_at, updated_at")
    _ddl(
        db,
        f"""
        CREATE TABLE fills_new (
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
            status TEXT NOT NULL CHECK (status IN ('MATCHED_NOT_BROADCASTED', 'MATCHED', 'MINED', 'CONFIRMED',
                                                   'RETRYING', 'FAILED')),
            status_rank INTEGER NOT NULL,
            matched_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (trade_id, order_id)
        );
        INSERT INTO fills_new ({columns}) SELECT {columns} FROM fills;
        DROP TABLE fills;
        ALTER TABLE fills_new RENAME TO fills;
        CREATE INDEX ix_fills_order ON fills (order_id);
        CREATE INDEX ix_fills_market ON fills (mode, condition_id);
        CREATE INDEX ix_fills_matched ON fills (matched_at);
        CREATE INDEX ix_fills_position ON fills (mode, strategy, token_id, matched_at, trade_id);
        UPDATE fills SET status_rank = 25 WHERE status = 'RETRYING'
        """,
    )
    db.execute(_EVENT_TRIGGERS[0])


@m(name="0018_venue_conditions")
def _0018_venue_conditions(db: UtilsDatabase) -> None:
    """Every venue condition the engine sees now besides the phase in venue_status (the venue
    unreachable, heartbeats failing, the wallet drifting from the ledger, a rate-limit warning),
    as a JSON list of {code, since, detail}: `engine status` shows them all, never "ok" while
    one is active. Written by the engine; emptied when trading stops."""
    db.execute("ALTER TABLE engine_state ADD COLUMN venue_conditions TEXT NOT NULL DEFAULT '[]'")


@m(name="0019_positions_end_in_cash")
def _0019_positions_end_in_cash(db: UtilsDatabase) -> None:
    """A resolved position is redeemable, not cash, until the venue pays (issue 20): claims on
    the venue (what it owes: a resolved winning position, a merge sent), the transactions
    that collect them, the share sets a merge takes out of positions, and the cash the venue
    paid (redemption, merge, maker rebate) as its own ledger kinds. The paper venue keeps its
    own redemptions and merges. Snapshots carry the redeemable value (part of equity)."""
    _ddl(
        db,
        """
        CREATE TABLE settlement_txs (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            kind TEXT NOT NULL CHECK (kind IN ('redeem', 'merge', 'approve')),
            condition_id TEXT,
            amount INTEGER NOT NULL DEFAULT 0,
            ref TEXT,
            tx_hash TEXT,
            via TEXT,
            state TEXT NOT NULL CHECK (state IN ('sending', 'pending', 'confirmed', 'failed')),
            error TEXT,
            actor TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_settlement_txs_open ON settlement_txs (mode, state);
        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            kind TEXT NOT NULL CHECK (kind IN ('redeem', 'merge')),
            condition_id TEXT NOT NULL,
            strategy TEXT NOT NULL,
            token_id TEXT,
            amount INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'failed')),
            ref TEXT NOT NULL,
            tx_id INTEGER REFERENCES settlement_txs (id),
            paid_by TEXT,
            created_at INTEGER NOT NULL,
            settled_at INTEGER,
            UNIQUE (mode, ref)
        );
        CREATE INDEX ix_claims_open ON claims (mode, status, condition_id);
        CREATE TABLE position_conversions (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            shares INTEGER NOT NULL,
            price INTEGER NOT NULL,
            at INTEGER NOT NULL,
            tx_id INTEGER NOT NULL REFERENCES settlement_txs (id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed'))
        );
        CREATE INDEX ix_conversions_position ON position_conversions (mode, strategy, token_id);
        CREATE TABLE cash_ledger_new (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'settlement', 'adjustment', 'redemption', 'merge',
                                               'rebate')),
            amount INTEGER NOT NULL,
            ref TEXT NOT NULL,
            note TEXT,
            UNIQUE (mode, kind, ref)
        );
        INSERT INTO cash_ledger_new (id, mode, at, kind, amount, ref, note)
            SELECT id, mode, at, kind, amount, ref, note FROM cash_ledger;
        DROP TABLE cash_ledger;
        ALTER TABLE cash_ledger_new RENAME TO cash_ledger;
        ALTER TABLE portfolio_snapshots ADD COLUMN redeemable INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE paper_settlements (
            ref TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('redeem', 'merge')),
            condition_id TEXT NOT NULL,
            yes_token TEXT NOT NULL,
            no_token TEXT NOT NULL,
            requested INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'failed')),
            error TEXT,
            paid INTEGER NOT NULL DEFAULT 0,
            yes_burned INTEGER NOT NULL DEFAULT 0,
            no_burned INTEGER NOT NULL DEFAULT 0,
            tx_hash TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            settled_at INTEGER
        );
        CREATE INDEX ix_paper_settlements_market ON paper_settlements (condition_id, state)
        """,
    )


@m(name="0020_backtest_orders")
def _0020_backtest_orders(db: UtilsDatabase) -> None:
    """A finished backtest keeps its orders beside its fills (JSON, at most 5,000): its results
    and its report draw the resting orders on the price, each over its lifetime."""
    db.execute("ALTER TABLE strategy_runs ADD COLUMN orders TEXT")


@m(name="0021_liquidity_rewards")
def _0021_liquidity_rewards(db: UtilsDatabase) -> None:
    """Liquidity rewards (issue 23): the venue's reward programs, each resting order's scoring,
    the estimated and paid rewards per market, strategy and UTC day, and 'reward' cash."""
    _ddl(
        db,
        """
        CREATE TABLE reward_programs (
            condition_id TEXT PRIMARY KEY,
            daily_pool INTEGER NOT NULL,
            max_spread INTEGER NOT NULL,
            min_size INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE reward_scores (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            order_id INTEGER NOT NULL,
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            samples INTEGER NOT NULL DEFAULT 0,
            scoring_samples INTEGER NOT NULL DEFAULT 0,
            scoring INTEGER NOT NULL DEFAULT 0 CHECK (scoring IN (0, 1)),
            venue_scoring INTEGER CHECK (venue_scoring IN (0, 1)),
            checked_at INTEGER NOT NULL,
            PRIMARY KEY (mode, order_id)
        );
        CREATE INDEX ix_reward_scores_strategy ON reward_scores (mode, strategy);
        CREATE TABLE reward_days (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            day TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            strategy TEXT NOT NULL,
            samples INTEGER NOT NULL DEFAULT 0,
            share INTEGER NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,
            paid INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, day, condition_id, strategy)
        );
        CREATE TABLE cash_ledger_new (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'settlement', 'adjustment', 'redemption', 'merge',
                                               'rebate', 'reward')),
            amount INTEGER NOT NULL,
            ref TEXT NOT NULL,
            note TEXT,
            UNIQUE (mode, kind, ref)
        );
        INSERT INTO cash_ledger_new (id, mode, at, kind, amount, ref, note)
            SELECT id, mode, at, kind, amount, ref, note FROM cash_ledger;
        DROP TABLE cash_ledger;
        ALTER TABLE cash_ledger_new RENAME TO cash_ledger
        """,
    )


@m(name="0022_recording_sessions")
def _0022_recording_sessions(db: UtilsDatabase) -> None:
    """Named recording sessions: a time span of the `ticks` table with its markets and notes
    (the ticks themselves stay where the recorder writes them). Imported sessions carry the
    exporting desk's ticks, inserted into `ticks` on import."""
    _ddl(
        db,
        """
        CREATE TABLE recording_sessions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            notes TEXT NOT NULL DEFAULT '',
            markets TEXT NOT NULL DEFAULT '[]',
            started_at INTEGER NOT NULL,
            stopped_at INTEGER,
            origin TEXT NOT NULL DEFAULT 'recorded' CHECK (origin IN ('recorded', 'imported')),
            created_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_recording_sessions_span ON recording_sessions (started_at, stopped_at)
        """,
    )


@m(name="0023_alert_subject")
def _0023_alert_subject(db: UtilsDatabase) -> None:
    """What an alert is about (e.g. one strategy's exit of one token), beside its message: the
    notifier de-duplicates repeats by it, since a message that carries a price differs each time."""
    db.execute("ALTER TABLE alerts ADD COLUMN subject TEXT")


@m(name="0024_fill_markouts")
def _0024_fill_markouts(db: UtilsDatabase) -> None:
    """Each fill's markout at each horizon (1s, 10s, 60s, resolution), one row per horizon once
    it is known (engine/analytics/markout_job.py): the later mid (micro-units; NULL when the desk
    had none for the token) and the markout in micro-pUSD, positive when the fill earned. A row
    written is final; a missing row is a horizon still to compute, so a restart loses nothing.
    The fill's mode, strategy, market and notional are copied in, so the Strategies page sums a
    covering index instead of joining every fill; a fill that turns FAILED loses its rows (the
    partial index finds those fills without scanning the others)."""
    _ddl(
        db,
        """
        CREATE TABLE fill_markouts (
            fill_id INTEGER NOT NULL REFERENCES fills (id),
            horizon TEXT NOT NULL CHECK (horizon IN ('1s', '10s', '60s', 'resolution')),
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            notional INTEGER NOT NULL,
            mid INTEGER,
            markout INTEGER,
            computed_at INTEGER NOT NULL,
            PRIMARY KEY (fill_id, horizon)
        );
        CREATE INDEX ix_fill_markouts_sums ON fill_markouts (mode, strategy, condition_id, horizon, markout, notional);
        CREATE INDEX ix_fills_failed ON fills (id) WHERE status = 'FAILED'
        """,
    )


@m(name="0029_market_origin_and_quarantine")
def _0029_market_origin_and_quarantine(db: UtilsDatabase) -> None:
    """Where a market's row came from: 'venue' (the desk's discovery) or 'imported' (a session
    file's, for a market this desk's venue does not list: never in the live desk's catalog,
    engine/feeds/catalog.py); and what the engine set aside because it could not be read (a
    market row moved out of the catalog with its content; a configuration row it runs without),
    each with the repair (storage/engine_stores/quarantine_store.py; `python -m engine status` lists them)."""
    _ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN origin TEXT NOT NULL DEFAULT 'venue' CHECK (origin IN ('venue', 'imported'));
        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('market', 'configuration')),
            subject TEXT NOT NULL,
            problem TEXT NOT NULL,
            repair TEXT NOT NULL,
            row TEXT,
            at INTEGER NOT NULL,
            UNIQUE (kind, subject)
        )
        """,
    )




@m(name="0030_market_events")
def _0030_market_events(db: UtilsDatabase) -> None:
    """Gamma's events, as the desk judges a neg-risk set by them (engine/feeds/discovery.py): each
    event's whole outcome set (its markets, each named, a placeholder or the "Other" market) and
    whether it is augmented; and each market's event. A neg-risk set is traded only when it is an
    event's whole set and the event is not augmented (engine/feeds/catalog.py)."""
    _ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN event_id TEXT;
        CREATE TABLE market_events (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            neg_risk_market_id TEXT,
            augmented INTEGER NOT NULL CHECK (augmented IN (0, 1)),
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE event_members (
            event_id TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('named', 'placeholder', 'other')),
            question TEXT NOT NULL,
            PRIMARY KEY (event_id, condition_id)
        );
        """,
    )

@m(name="0035_alert_repeats")
def _0035_alert_repeats(db: UtilsDatabase) -> None:
    """Alerts from one cause are folded, never a flood (storage/desk/audit.py, raise_alert): past a burst
    of one code (and subject) within a window, the newest such alert counts the rest (`repeats`,
    the last one's time in `last_at`) instead of a row each."""
    _ddl(
        db,
        """
        ALTER TABLE alerts ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE alerts ADD COLUMN last_at INTEGER;
        CREATE INDEX ix_alerts_code_created ON alerts (code, created_at);
        """,
    )


@m(name="0036_game_start")
def _0036_game_start(db: UtilsDatabase) -> None:
    """A sports market's game start (Gamma `gameStartTime`) and whether the venue clears its book
    then (`clearBookOnStart`): the desk withdraws its quotes a little before (trading/exits/game_start.py)."""
    _ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN game_start_at INTEGER;
        ALTER TABLE markets ADD COLUMN clear_book_on_start INTEGER NOT NULL DEFAULT 0;
        """,
    )

@m(name="0040_market_payouts")
def _0040_market_payouts(db: UtilsDatabase) -> None:
    """A resolution is a payout per outcome (micro-pUSD a share), not only a winner: a canceled
    game pays 0.5/0.5 (contracts/payouts.py). `resolved_outcome` keeps the winner of a
    1/0 resolution and stays empty for a split; existing resolutions are 1/0."""
    _ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN payout_yes INTEGER;
        ALTER TABLE markets ADD COLUMN payout_no INTEGER;
        UPDATE markets SET payout_yes = CASE resolved_outcome WHEN 'YES' THEN 1000000 ELSE 0 END,
                           payout_no = CASE resolved_outcome WHEN 'NO' THEN 1000000 ELSE 0 END
         WHERE resolved_outcome IS NOT NULL;
        """,
    )


@m(name="0041_run_latency")
def _0041_run_latency(db: UtilsDatabase) -> None:
    """The latency model a backtest run was asked for (contracts/latency_spec.py); empty: the desk's
    `paper_latency` setting when it ran (the run's metrics say which model it used)."""
    _ddl(db, "ALTER TABLE strategy_runs ADD COLUMN latency TEXT;")


@m(name="0042_strategy_pause_delete")
def _0042_strategy_pause_delete(db: UtilsDatabase) -> None:
    """A strategy paused on its own (it stays hosted, decides nothing, its orders withdrawn) and a
    deleted one (kept for its history, hidden from the lists, never hosted again)."""
    _ddl(
        db,
        """
        ALTER TABLE strategies ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE strategies ADD COLUMN deleted_at INTEGER;
        """,
    )


@m(name="0043_data_age")
def _0043_data_age(db: UtilsDatabase) -> None:
    """The age of the oldest book the engine trades on, written with each heartbeat (NULL: it
    follows no book), for `engine status` and the metrics endpoint."""
    _ddl(db, "ALTER TABLE engine_state ADD COLUMN data_age_ms INTEGER;")


@m(name="0044_resolution_status")
def _0044_resolution_status(db: UtilsDatabase) -> None:
    """Gamma's UMA resolution status of a market ("" none yet; proposed, disputed, resolved…): a
    market whose resolution is under way is not entered (engine/risk/gate.py RESOLUTION_PENDING)."""
    _ddl(db, "ALTER TABLE markets ADD COLUMN resolution_status TEXT NOT NULL DEFAULT '';")


@m(name="0045_forecasts")
def _0045_forecasts(db: UtilsDatabase) -> None:
    """The probabilities of YES strategies state for markets (value betting's fair value), each
    written when it moves: scored against resolutions for calibration (Brier)."""
    _ddl(
        db,
        """
        CREATE TABLE forecasts (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 1000000)
        );
        CREATE INDEX forecasts_by_strategy ON forecasts (mode, strategy, condition_id, at);
        """,
    )


@m(name="0046_news_sentiment")
def _0046_news_sentiment(db: UtilsDatabase) -> None:
    """Each headline's sentiment in thousandths (-1000..1000: -1..1, engine/news/sentiment.py) as the
    poller scored it; NULL for entries seen before it was scored."""
    _ddl(db, "ALTER TABLE news_seen ADD COLUMN sentiment INTEGER CHECK (sentiment BETWEEN -1000 AND 1000);")


@m(name="0047_followed_trades")
def _0047_followed_trades(db: UtilsDatabase) -> None:
    """The public trades of the wallets the desk follows, as the Data API listed them (engine/follow/),
    each once: what copy_trading strategies copy and what the Strategies page values."""
    _ddl(
        db,
        """
        CREATE TABLE followed_trades (
            id INTEGER PRIMARY KEY,
            wallet TEXT NOT NULL,
            label TEXT NOT NULL,
            trade_key TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL CHECK (price > 0 AND price < 1000000),
            size INTEGER NOT NULL CHECK (size > 0),
            at INTEGER NOT NULL,
            seen_at INTEGER NOT NULL,
            UNIQUE (wallet, trade_key)
        );
        CREATE INDEX followed_trades_by_market ON followed_trades (condition_id, at);
        CREATE INDEX followed_trades_by_wallet ON followed_trades (wallet, at);
        """,
    )


@m(name="0048_indicator_values")
def _0048_indicator_values(db: UtilsDatabase) -> None:
    """Streaming indicators' values (engine/trading/hosting/indicator_host.py), one row per market, variant
    and minute, in micro-units of their own unit (probability, probability per minute, a ratio)."""
    _ddl(
        db,
        """
        CREATE TABLE indicator_values (
            id INTEGER PRIMARY KEY,
            condition_id TEXT NOT NULL,
            variant TEXT NOT NULL,
            at INTEGER NOT NULL,
            value INTEGER NOT NULL
        );
        CREATE INDEX indicator_values_by_market ON indicator_values (condition_id, variant, at);
        """,
    )


@m(name="0049_strategy_live")
def _0049_strategy_live(db: UtilsDatabase) -> None:
    """Whether a strategy may trade live (1) or only paper (0): a new strategy starts in paper
    whatever the desk's mode, and promoting it is its own confirmed, audited act. Strategies that
    existed before keep trading as they did (1)."""
    _ddl(db, "ALTER TABLE strategies ADD COLUMN live INTEGER NOT NULL DEFAULT 1 CHECK (live IN (0, 1));")


@m(name="0050_venue_pairs")
def _0050_venue_pairs(db: UtilsDatabase) -> None:
    """Markets linked by hand across venues (engine/cli/pairs.py): a Polymarket market and the Kalshi
    market the operator judged to be the same question, `inverted` when Polymarket's YES is Kalshi's
    NO; the warnings the desk showed when they were linked (JSON list). The desk never links by itself."""
    _ddl(
        db,
        """
        CREATE TABLE venue_pairs (
            id INTEGER PRIMARY KEY,
            condition_id TEXT NOT NULL UNIQUE,
            kalshi_ticker TEXT NOT NULL UNIQUE,
            inverted INTEGER NOT NULL DEFAULT 0 CHECK (inverted IN (0, 1)),
            polymarket_question TEXT NOT NULL,
            kalshi_title TEXT NOT NULL,
            warnings TEXT NOT NULL DEFAULT '[]',
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        );
        """,
    )



@m(name="0051_paper_lane_memory")
def _0051_paper_lane_memory(db: UtilsDatabase) -> None:
    """What the paper lane's breakers remember (engine/risk/ledger_risk.py): paper-only strategies on
    a live desk trade on the paper ledger, whose trading state, peak and day start are not the
    desk's; kept here so they outlive a restart as the desk's do. No CHECK on the state: SQLite
    checks every constraint of the table against its existing rows when a column with one is added,
    and an upgrade must never stop on a row (the values are the engine's TradingState, read back
    through it)."""
    _ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN paper_lane_state TEXT NOT NULL DEFAULT 'ACTIVE';
        ALTER TABLE engine_state ADD COLUMN paper_lane_reason TEXT;
        ALTER TABLE engine_state ADD COLUMN paper_lane_peak INTEGER;
        ALTER TABLE engine_state ADD COLUMN paper_lane_day_start INTEGER;
        ALTER TABLE engine_state ADD COLUMN paper_lane_day_at INTEGER;
        """,
    )


# The tables whose rows belong to one venue's ledger (engine/execution and the paper venue's book).
VENUE_KEYED = ("orders", "fills", "positions", "cash_ledger", "claims", "settlement_txs", "position_conversions",
               "portfolio_snapshots", "strategy_snapshots", "paper_orders", "paper_trades", "paper_settlements")


@m(name="0052_ledger_venue")
def _0052_ledger_venue(db: UtilsDatabase) -> None:
    """Which venue each ledger row belongs to: one engine keeps a ledger per (mode, venue), so
    Polymarket's and Kalshi's orders, fills, positions, cash, claims and valuations never mix, and
    each venue's executor and paper venue read only their own. Every row made before is
    Polymarket's. No CHECK (an upgrade must never stop on an existing row; the engine writes only
    the venues contracts/venues/__init__.py names)."""
    _ddl(db, "\n".join(f"ALTER TABLE {table} ADD COLUMN venue TEXT NOT NULL DEFAULT 'polymarket';"
                       for table in VENUE_KEYED))


@m(name="0053_venue_risk")
def _0053_venue_risk(db: UtilsDatabase) -> None:
    """What the breakers of another venue's ledger remember (engine/risk/ledger_risk.py): a Kalshi
    paper ledger trades beside the desk with its own drawdown, daily loss and halts, kept here so
    they outlive a restart as the desk's (engine_state) and the Polymarket paper lane's do."""
    _ddl(
        db,
        """
        CREATE TABLE venue_risk (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            venue TEXT NOT NULL,
            trading_state TEXT NOT NULL DEFAULT 'ACTIVE',
            reason TEXT,
            peak_equity INTEGER,
            day_start_equity INTEGER,
            day_started_at INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, venue)
        )
        """,
    )


@m(name="0054_kalshi_mode")
def _0054_kalshi_mode(db: UtilsDatabase) -> None:
    """Kalshi is armed on its own: `kalshi_mode` is paper until the operator arms it live with its
    own checklist (engine/process/control.py, `set_venue_mode`), whatever the desk's `mode` is. No
    CHECK (an upgrade must never stop on a row; the engine writes only 'paper' or 'live')."""
    _ddl(db, "ALTER TABLE engine_state ADD COLUMN kalshi_mode TEXT NOT NULL DEFAULT 'paper';")


@m(name="0075_order_end_reason")
def _0075_order_end_reason(db: UtilsDatabase) -> None:
    """Why the desk ended an order (contracts/order_end.py): written with the cancel the executor
    sends (a replace, a pause, a kill, an exit, a protection...); NULL while it works and for an
    end the venue decides (read from the status and `error`)."""
    _ddl(db, "ALTER TABLE orders ADD COLUMN end_reason TEXT;")


@m(name="0076_listed_prices")
def _0076_listed_prices(db: UtilsDatabase) -> None:
    """What the venue's market listing (Gamma) says a market's YES trades at: best bid, best ask
    and last trade (micro probability, NULL when it lists none) and when the desk read them, so a
    market the desk does not follow still shows a price, with its age."""
    _ddl(db, """ALTER TABLE markets ADD COLUMN listed_bid INTEGER;
        ALTER TABLE markets ADD COLUMN listed_ask INTEGER;
        ALTER TABLE markets ADD COLUMN listed_last INTEGER;
        ALTER TABLE markets ADD COLUMN listed_at INTEGER;""")


@m(name="0080_outside_signals")
def _0080_outside_signals(db: UtilsDatabase) -> None:
    """Fair values from outside (an HTTP post, the CLI, an assistant through MCP), kept with their
    provenance: each signal says how sure its source is (`confidence`, micros; NULL: not said), how
    it came (`via`) and when its source made it (`posted_at`). `signal_posts` keeps every accepted
    post, once per (source, nonce), so a replay is refused and a source's calibration can be scored
    against the markets' resolutions; `signal_sources` is the model-confidence breaker's verdict on
    each source (engine/risk/source_breaker.py, its one writer)."""
    _ddl(
        db,
        """
        ALTER TABLE signals ADD COLUMN confidence INTEGER;
        ALTER TABLE signals ADD COLUMN via TEXT;
        ALTER TABLE signals ADD COLUMN posted_at INTEGER;
        CREATE TABLE signal_posts (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            fair_value INTEGER NOT NULL,
            confidence INTEGER,
            nonce TEXT NOT NULL,
            posted_at INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            via TEXT NOT NULL,
            actor TEXT NOT NULL,
            detail TEXT,
            UNIQUE (source, nonce)
        );
        CREATE INDEX ix_signal_posts_market ON signal_posts (source, condition_id);
        CREATE INDEX ix_signal_posts_received ON signal_posts (received_at);
        CREATE TABLE signal_sources (
            source TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            brier INTEGER,
            markets INTEGER NOT NULL DEFAULT 0,
            judged_at INTEGER NOT NULL,
            changed_at INTEGER,
            reason TEXT
        )
        """,
    )


@m(name="0081_odds_links")
def _0081_odds_links(db: UtilsDatabase) -> None:
    """Sports markets linked by hand to a bookmakers' odds event (engine/feeds/odds_reference.py):
    the event's id in the odds feed and the outcome whose win is this market's YES. Written by the
    operator's command (audited), read by the engine."""
    _ddl(
        db,
        """
        CREATE TABLE odds_links (
            condition_id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL,
            outcome TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        )
        """,
    )


@m(name="0070_history_as_it_was")
def _0070_history_as_it_was(db: UtilsDatabase) -> None:
    """What a recording's history is, so a backtest replays it as it was and says what it replayed:
    a session's `history` (JSON: source, archive layouts, where its prints came from, the hours
    missing) and `tick_sizes`, each tick size change of a token at its time (micro-units; the old
    tick when known), which the replay applies when it reaches it."""
    _ddl(
        db,
        """
        ALTER TABLE recording_sessions ADD COLUMN history TEXT;
        CREATE TABLE tick_sizes (
            token_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            tick INTEGER NOT NULL,
            old_tick INTEGER,
            PRIMARY KEY (token_id, at)
        )
        """,
    )


@m(name="0071_run_capital")
def _0071_run_capital(db: UtilsDatabase) -> None:
    """A backtest's starting cash is the run's own input (micro-pUSD; NULL: the desk's paper starting
    cash, as runs before this one used)."""
    _ddl(db, "ALTER TABLE strategy_runs ADD COLUMN capital INTEGER;")


@m(name="0065_last_pass")
def _0065_last_pass(db: UtilsDatabase) -> None:
    """When the engine's last trading pass completed, written with each heartbeat (NULL: none yet):
    a desk whose heartbeat is fresh but whose passes fail shows as one that cannot decide."""
    _ddl(db, "ALTER TABLE engine_state ADD COLUMN last_pass_at INTEGER;")


@m(name="0066_session_imports")
def _0066_session_imports(db: UtilsDatabase) -> None:
    """A session import in progress (storage/research/import_jobs.py): its ticks are written in short
    batches that let the engine's writes in between, so until its session row is written this row
    says whose ticks they are: retention keeps them, and an import that died is undone (its ticks
    and the markets it added removed) by the next import or retention run."""
    _ddl(
        db,
        """
        CREATE TABLE session_imports (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            tokens TEXT NOT NULL,
            markets_added TEXT NOT NULL DEFAULT '[]',
            started_at INTEGER NOT NULL,
            stopped_at INTEGER NOT NULL,
            first_tick_id INTEGER NOT NULL,
            pid INTEGER NOT NULL,
            began_at INTEGER NOT NULL
        )
        """,
    )


@m(name="0085_paper_v2_redemptions")
def _0085_paper_v2_redemptions(db: UtilsDatabase) -> None:
    """A paper redemption of a Protocol V2 market redeems one outcome, as its Router does
    (engine/venues/paper_settlement.py): `position` is that outcome's token (NULL: a CTF redemption,
    both outcomes burned)."""
    _ddl(db, "ALTER TABLE paper_settlements ADD COLUMN position TEXT;")


@m(name="0086_strategy_memory")
def _0086_strategy_memory(db: UtilsDatabase) -> None:
    """A strategy's warm state kept across restarts (engine/trading/hosting/strategy_memory.py): what it
    handed out last (`memory`, JSON), for which kind and params (`params_hash`), when; and what the
    last start did with it (`outcome`: restored, or why not, at `restored_at`)."""
    _ddl(
        db,
        """
        CREATE TABLE strategy_memory (
            strategy TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            params_hash TEXT NOT NULL,
            memory TEXT NOT NULL,
            saved_at INTEGER NOT NULL,
            restored_at INTEGER,
            outcome TEXT
        )
        """,
    )


@m(name="0087_updown_windows")
def _0087_updown_windows(db: UtilsDatabase) -> None:
    """How each up/down window the desk follows is priced (engine/feeds/spot_reference.py), for the
    Markets page: by which stream (`priced_by`: chainlink, the settlement; okx or binance, the
    fallback; NULL: none), against which price to beat (micro-USD) and where it came from
    (`beat_from`: gamma, or the stream whose price at the start it is). Written when it changes."""
    _ddl(
        db,
        """
        CREATE TABLE updown_windows (
            condition_id TEXT PRIMARY KEY,
            priced_by TEXT,
            price_to_beat INTEGER,
            beat_from TEXT,
            updated_at INTEGER NOT NULL
        )
        """,
    )


@m(name="0088_follow_stream")
def _0088_follow_stream(db: UtilsDatabase) -> None:
    """Copy trading at the speed of the trade (engine/follow/): each followed trade says which source
    kept it first (`source`: stream, the venue's real-time trade stream; data_api, the reconciling
    poll) and, from the stream, when the venue reported it (`reported_at`, ms; seen_at - reported_at
    is how late it reached the desk). `follow_cursors`: per followed wallet, when the desk began
    following it (`since_ms`: trades before are history) and the newest trade time the Data API has
    listed (`reconciled_s`), so a restart reads on from there and loses nothing."""
    _ddl(
        db,
        """
        ALTER TABLE followed_trades ADD COLUMN reported_at INTEGER;
        ALTER TABLE followed_trades ADD COLUMN source TEXT NOT NULL DEFAULT 'data_api'
            CHECK (source IN ('stream', 'data_api'));
        CREATE TABLE follow_cursors (
            wallet TEXT PRIMARY KEY,
            since_ms INTEGER NOT NULL,
            reconciled_s INTEGER,
            updated_at INTEGER NOT NULL
        );
        """,
    )


@m(name="0089_wallet_scores")
def _0089_wallet_scores(db: UtilsDatabase) -> None:
    """The wallet finder's results (engine/follow/finder.py, `python -m engine wallets`): per wallet and
    scoring, the venue's leaderboard figures (rank, PnL and volume of its period, micro-pUSD) and
    what the desk measured over the chosen window from the Data API: realized PnL (micro-pUSD) and
    hit rate (micro-units of one) of the positions closed in it, how many, the trades, markets and
    volume, and the market mix (JSON: the biggest markets' shares of volume)."""
    _ddl(
        db,
        """
        CREATE TABLE wallet_scores (
            id INTEGER PRIMARY KEY,
            wallet TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            category TEXT NOT NULL,
            period TEXT NOT NULL,
            rank INTEGER,
            board_pnl INTEGER,
            board_volume INTEGER,
            window_days INTEGER NOT NULL CHECK (window_days > 0),
            realized_pnl INTEGER NOT NULL,
            closed INTEGER NOT NULL CHECK (closed >= 0),
            hit_rate INTEGER CHECK (hit_rate BETWEEN 0 AND 1000000),
            trades INTEGER NOT NULL CHECK (trades >= 0),
            markets INTEGER NOT NULL CHECK (markets >= 0),
            volume INTEGER NOT NULL CHECK (volume >= 0),
            mix TEXT NOT NULL DEFAULT '[]',
            complete INTEGER NOT NULL DEFAULT 1 CHECK (complete IN (0, 1)),
            scored_at INTEGER NOT NULL,
            UNIQUE (wallet, window_days, category, period)
        );
        CREATE INDEX wallet_scores_by_time ON wallet_scores (scored_at);
        """,
    )


@m(name="0055_kalshi_market_facts")
def _0055_kalshi_market_facts(db: UtilsDatabase) -> None:
    """What the desk last read of each paired Kalshi market (engine/venues/kalshi/reference.py, `pairs
    add`): its price grid (`price_ranges`, a JSON list of [start, end, step] in micro-dollars), its
    series' fee type and multiplier (millionths), its lifecycle status and when it was read. NULL until
    read: the desk then prices on whole cents (valid on every grid) and charges the dearest known fees."""
    _ddl(db, "\n".join(f"ALTER TABLE venue_pairs ADD COLUMN {column};" for column in (
        "kalshi_price_grid TEXT", "kalshi_fee_type TEXT", "kalshi_fee_multiplier_ppm INTEGER", "kalshi_status TEXT",
        "kalshi_read_at INTEGER")))


@m(name="0056_kalshi_exchange")
def _0056_kalshi_exchange(db: UtilsDatabase) -> None:
    """Kalshi's exchange as the desk last read it (engine/trading/ledgers/kalshi_pauses.py): a JSON object with
    `trading_active`, `exchange_active`, `resume_at` and the next scheduled pause (`next_pause`: [start,
    end] epoch ms), read by `engine status`, the dashboard and the bot; '{}' until read."""
    _ddl(db, "ALTER TABLE engine_state ADD COLUMN kalshi_exchange TEXT NOT NULL DEFAULT '{}';")


@m(name="0057_kalshi_fee_changes")
def _0057_kalshi_fee_changes(db: UtilsDatabase) -> None:
    """The changes of a paired Kalshi market's fee settings that Kalshi lists for its series (`GET
    /series/fee_changes`, past and scheduled) and when the fees were read: a JSON object {"read_at":
    epoch ms, "changes": [[from epoch ms, fee type, multiplier ppm], ...]} (contracts/venues/kalshi/fees.py
    FeeSchedule); NULL until read, and no change for a market whose event overrides its series' fees."""
    _ddl(db, "ALTER TABLE venue_pairs ADD COLUMN kalshi_fee_changes TEXT;")

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


@m(name="0060_paper_until_promoted")
def _0060_paper_until_promoted(db: UtilsDatabase) -> None:
    """Nothing is live unless promoted. Migration 0049 gave every strategy `live = 1` by default, so a
    strategy seeded or written without the column (the demo market maker) traded real money as soon as
    the desk was armed, though nobody promoted it. The column's default becomes 0 (SQLite changes a
    default only by rebuilding the table: the documented twelve-step way, the table's own text kept
    but for that default), and every strategy whose last promotion act in the audit log is not a
    promotion (`strategy.promote`) is set paper only, each audited, with one warning alert naming them
    that the operator sees until acknowledged."""
    (create,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'strategies'").fetchone()
    old_default = "live INTEGER NOT NULL DEFAULT 1"
    if old_default not in create:
        raise RuntimeError("strategies.live is not as migration 0049 made it: refusing to rebuild the table")
    scratch = "strategies_0060"  # the rebuilt table, under its own name until the old one is dropped
    db.execute(create.replace(old_default, "live INTEGER NOT NULL DEFAULT 0").replace(
        "CREATE TABLE strategies", f"CREATE TABLE {scratch}", 1))
    db.execute(f"INSERT INTO {scratch} SELECT * FROM strategies")
    db.execute("DROP TABLE strategies")
    db.execute(f"ALTER TABLE {scratch} RENAME TO strategies")
    promoted = {entity.removeprefix("strategy:") for entity, action in db.execute(
        """SELECT entity, action FROM audit_log a WHERE action IN ('strategy.promote', 'strategy.demote')
           AND id = (SELECT MAX(id) FROM audit_log b WHERE b.entity = a.entity
                     AND b.action IN ('strategy.promote', 'strategy.demote'))""").fetchall()
        if action == "strategy.promote"}
    demoted = [name for (name,) in db.execute(
        "SELECT name FROM strategies WHERE live = 1 ORDER BY name").fetchall() if name not in promoted]
    if not demoted:
        return
    now = now_ms()
    for name in demoted:
        db.execute("UPDATE strategies SET live = 0, version = version + 1, updated_at = ?, "
                   "updated_by = 'migration 0060' WHERE name = ?", [now, name])
        db.execute("""INSERT INTO audit_log (at, actor, action, entity, before, after)
                      VALUES (?, 'migration 0060', 'strategy.demote', ?, '{"live": true}', ?)""",
                   [now, f"strategy:{name}", '{"live": false, "why": "never promoted"}'])
    db.execute("""INSERT INTO alerts (created_at, level, source, code, message, subject)
                  VALUES (?, 'warning', 'upgrade', 'STRATEGIES_DEMOTED', ?, 'upgrade')""",
               [now, f"{len(demoted)} strateg{'y' if len(demoted) == 1 else 'ies'} never promoted to live "
                     f"({', '.join(demoted)}) would have traded real money whenever the desk was armed live (an "
                     "older release's default): each is paper only now (audited). Promote on the Strategies page "
                     "the ones you mean to trade live; acknowledge this alert once read."])


@m(name="0061_engine_reads")
def _0061_engine_reads(db: UtilsDatabase) -> None:
    """What the running engine read at its start (engine/process/control.py, `boot`): the venue hosts it
    talks to, so every surface says "real money" only against a real venue, and which wallet and which
    Kalshi key it holds (the wallet's addresses; the Kalshi key's fingerprint, never the key), so arming
    can require a preflight of the key the engine really read (a `.env` edited since is not read until
    the engine restarts). NULL: not read (an engine of an older release, or nothing configured)."""
    _ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN venue_host TEXT;
        ALTER TABLE engine_state ADD COLUMN venue_wallet TEXT;
        ALTER TABLE engine_state ADD COLUMN kalshi_host TEXT;
        ALTER TABLE engine_state ADD COLUMN kalshi_key TEXT;
        ALTER TABLE engine_state ADD COLUMN reads_at INTEGER;
        """,
    )


@m(name="0062_preflight_runs")
def _0062_preflight_runs(db: UtilsDatabase) -> None:
    """Each preflight run (`engine preflight`, `engine kalshi-preflight`, or the Settings page running
    one): for which venue, host and account (the wallet's addresses, or the Kalshi key's fingerprint),
    whether it passed, and its checks (JSON list of {check, ok, detail, fix}). Arming a venue live
    needs a passing run of the last hour for the account the engine holds (storage/desk/arming.py)."""
    _ddl(
        db,
        """
        CREATE TABLE preflight_runs (
            id INTEGER PRIMARY KEY,
            venue TEXT NOT NULL,
            host TEXT NOT NULL,
            account TEXT,
            ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
            checks TEXT NOT NULL DEFAULT '[]',
            at INTEGER NOT NULL,
            actor TEXT NOT NULL
        );
        CREATE INDEX preflight_runs_by_venue ON preflight_runs (venue, at)
        """,
    )


# The paper lane's memory as migration 0051 kept it on the engine_state row (column: venue_risk's).
_PAPER_LANE_COLUMNS = {"paper_lane_state": "trading_state", "paper_lane_reason": "reason",
                       "paper_lane_peak": "peak_equity", "paper_lane_day_start": "day_start_equity",
                       "paper_lane_day_at": "day_started_at"}


@m(name="0090_one_ledger_risk_store")
def _0090_one_ledger_risk_store(db: UtilsDatabase) -> None:
    """One store for the risk memory of every ledger beside the desk's: `venue_risk`, by (venue, mode)
    (storage/engine_stores/ledger_risk_store.py). The paper lane's, kept on the engine_state row since
    0051, moves to its row (polymarket, paper) as it stands: a lane halted before the upgrade is still
    halted after it, with its reason, peak and day figures (its own columns win over any row there,
    since nothing wrote one before). Then the old columns go (no index, view, trigger or CHECK names them)."""
    old, new = ", ".join(_PAPER_LANE_COLUMNS), ", ".join(_PAPER_LANE_COLUMNS.values())
    db.execute(f"""INSERT INTO venue_risk (mode, venue, {new}, updated_at)
                   SELECT 'paper', 'polymarket', {old}, ? FROM engine_state WHERE id = 1
                   ON CONFLICT (mode, venue) DO UPDATE SET
                       {", ".join(f"{column} = excluded.{column}" for column in _PAPER_LANE_COLUMNS.values())},
                       updated_at = excluded.updated_at""", [now_ms()])
    for column in _PAPER_LANE_COLUMNS:
        db.execute(f"ALTER TABLE engine_state DROP COLUMN {column}")


@m(name="0091_order_trail")
def _0091_order_trail(db: UtilsDatabase) -> None:
    """Every order's trail for the Audit page (storage/dashboard_queries/order_trail_queries.py), read
    from the ledger's own rows rather than copied beside them: a placement is its order's row (its
    intent's reason, and now `gate`: what the risk gate did with that intent, 'approved' or the trims
    and holds it made; NULL for an order that did not come through it: the operator's, an exit's, an
    import); a cancel the desk sent is its cause (`end_reason`) and now `ending_at`, set by the same
    write; an end the venue decided is the order's status and words, `ending_at` its time (an order
    that filled has its fills instead); a fill is its fill. Each step is therefore written in the
    ledger's own transaction by construction, and a decision pays no extra row for it: a row per step
    in a table of its own, even written by triggers, cost a replacing decision 4-11 % more CPU
    (bench/decision_cost.py, alternating, on a busy host). A partial index on `ending_at` lets the page
    read the newest ends first. Orders ended before this migration are dated by their close."""
    _ddl(
        db,
        """
        ALTER TABLE orders ADD COLUMN gate TEXT;
        ALTER TABLE orders ADD COLUMN ending_at INTEGER;
        UPDATE orders SET ending_at = COALESCE(closed_at, updated_at)
            WHERE end_reason IS NOT NULL OR status IN ('REJECTED', 'CANCELED', 'LOST');
        CREATE INDEX ix_orders_ending ON orders (ending_at) WHERE ending_at IS NOT NULL
        """,
    )


@m(name="0092_candles")
def _0092_candles(db: UtilsDatabase) -> None:
    """`candles`: each recorded token's book and prints rolled into 1-minute, 5-minute, 1-hour and 1-day
    UTC buckets (contracts/candles.py), written by the recorder beside its ticks and never pruned: the
    price charts read them where the ticks are gone or the range is wide. The mid's OHLC and when its
    first and last mid were seen (so partial candles merge in any order), the spread's sum and count,
    the prints' volume (micro-shares) and count. A token is keyed by a small number (`candle_tokens`):
    its id (some 77 digits on Polymarket) in every row's key would double what a market-day keeps.
    WITHOUT ROWID: the key is the only index a read needs. `candle_backfill`: the ticks recorded
    before now were never rolled into candles; retention rolls them before it prunes them, and notes
    how far it got (engine/marketdata/candle_backfill.py)."""
    _ddl(
        db,
        """
        CREATE TABLE candle_tokens (
            id INTEGER PRIMARY KEY,
            token_id TEXT NOT NULL UNIQUE
        );
        CREATE TABLE candles (
            token_key INTEGER NOT NULL REFERENCES candle_tokens (id),
            width_ms INTEGER NOT NULL,
            start_at INTEGER NOT NULL,
            mid_open INTEGER,
            mid_high INTEGER,
            mid_low INTEGER,
            mid_close INTEGER,
            first_at INTEGER,
            last_at INTEGER,
            spread_sum INTEGER NOT NULL DEFAULT 0,
            spreads INTEGER NOT NULL DEFAULT 0,
            volume INTEGER NOT NULL DEFAULT 0,
            trades INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (token_key, width_ms, start_at)
        ) WITHOUT ROWID;
        CREATE TABLE candle_backfill (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            before_at INTEGER NOT NULL,
            rolled_until INTEGER
        )
        """,
    )
    db.execute("INSERT INTO candle_backfill (id, before_at) VALUES (1, ?)", [now_ms()])


@m(name="0093_ledger_resolutions")
def _0093_ledger_resolutions(db: UtilsDatabase) -> None:
    """`resolutions`: when each ledger (mode, with its venue) closed its positions in a market at the
    market's payouts, written by the executor with the closing (engine/execution/event_applier.py,
    `settle_market`): the date a resolution disposed of what was held, for the tax-lot export (a
    losing side's close leaves no claim to date it by). A market resolved before this migration is
    dated by its first redeem claim in that ledger, else by its positions' last update there (the
    best the ledger kept); a Kalshi market resolved before it has no payouts stored to copy."""
    _ddl(
        db,
        """
        CREATE TABLE resolutions (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            venue TEXT NOT NULL DEFAULT 'polymarket',
            condition_id TEXT NOT NULL,
            payout_yes INTEGER NOT NULL,
            payout_no INTEGER NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (mode, condition_id)
        )
        """,
    )
    db.execute("""INSERT INTO resolutions (mode, venue, condition_id, payout_yes, payout_no, at)
                  SELECT p.mode, p.venue, m.condition_id, m.payout_yes, m.payout_no,
                         COALESCE((SELECT MIN(c.created_at) FROM claims c WHERE c.mode = p.mode
                                       AND c.condition_id = m.condition_id AND c.kind = 'redeem'
                                       AND c.ref NOT LIKE 'refund:%'), MAX(p.updated_at))
                  FROM markets m JOIN positions p ON p.condition_id = m.condition_id
                  WHERE m.payout_yes IS NOT NULL AND m.payout_no IS NOT NULL
                  GROUP BY p.mode, m.condition_id""")


@m(name="0094_venue_rate_tier")
def _0094_venue_rate_tier(db: UtilsDatabase) -> None:
    """The live venue's per-signer rate-limit tier as the engine last read it (Polymarket's, by the
    maker wallet's 30-day volume: JSON {tier, read_at, order_rate, order_burst, cancel_rate,
    cancel_burst}; '{}' while no live venue is connected), for `engine status` and the dashboard."""
    _ddl(db, "ALTER TABLE engine_state ADD COLUMN venue_tier TEXT NOT NULL DEFAULT '{}';")


@m(name="0095_market_rebates_and_resolution_trail")
def _0095_market_rebates_and_resolution_trail(db: UtilsDatabase) -> None:
    """Two facts of a market the venue lists (Gamma) that the desk used to assume or miss: the share of
    its taker fees rebated to makers (`feeSchedule.rebateRate`, parts per million; NULL: the listing
    names none), and UMA's trail of its resolution (`umaResolutionStatuses`: the statuses before the
    current one, JSON list; a dispute stays in it after a later proposal)."""
    _ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN rebate_ppm INTEGER;
        ALTER TABLE markets ADD COLUMN resolution_history TEXT NOT NULL DEFAULT '[]';
        """,
    )


# Kalshi's arming as migrations 0054 and 0061 kept it on the engine_state row (column: venue_modes').
_KALSHI_ARMING_COLUMNS = {"kalshi_mode": "mode", "kalshi_key": "account", "kalshi_host": "host"}


@m(name="0096_venue_modes")
def _0096_venue_modes(db: UtilsDatabase) -> None:
    """A venue's arming is a row, not columns of the engine row: `venue_modes`, one row per venue armed
    apart from the desk's (the desk's own venue is armed by engine_state.mode), holding its mode ('paper'
    until the operator arms it live: `set_venue_mode`) and the account and host the running engine read
    for it at its start (what arming checks a preflight against). A venue without a row is on paper.
    Kalshi's, kept on the engine_state row since 0054 and 0061, moves to its row as it stands (an armed
    Kalshi is still armed after the upgrade); then those columns go (no index, view, trigger or CHECK
    names them)."""
    _ddl(
        db,
        """
        CREATE TABLE venue_modes (
            venue TEXT PRIMARY KEY,
            mode TEXT NOT NULL DEFAULT 'paper' CHECK (mode IN ('paper', 'live')),
            account TEXT,
            host TEXT,
            updated_at INTEGER NOT NULL
        )
        """,
    )
    old = ", ".join(_KALSHI_ARMING_COLUMNS)
    db.execute(f"""INSERT INTO venue_modes (venue, {", ".join(_KALSHI_ARMING_COLUMNS.values())}, updated_at)
                   SELECT 'kalshi', {old}, ? FROM engine_state WHERE id = 1""", [now_ms()])
    for column in _KALSHI_ARMING_COLUMNS:
        db.execute(f"ALTER TABLE engine_state DROP COLUMN {column}")
