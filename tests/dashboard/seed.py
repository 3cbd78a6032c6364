"""Realistic rows for the dashboard tests, written straight into SQLite (as the engine would)."""

from __future__ import annotations

import json
from pathlib import Path

from contracts.limits import LIMITS
from contracts.runtime_settings import SETTINGS
from storage.sqlite.db import now_ms, raw_connection

M = 1_000_000
BTC, ELECTION, RAIN = "0xbtc100k", "0xelection", "0xrain"
YES_BTC, NO_BTC = "tok-btc-yes", "tok-btc-no"
MARKETS = [
    # condition_id, question, slug, yes, no, volume, liquidity, end in days, tags, tradable, neg_risk_market
    (
        BTC,
        "Will Bitcoin reach $100k by June?",
        "btc-100k-june",
        YES_BTC,
        NO_BTC,
        2_500_000,
        80_000,
        30,
        ["crypto", "bitcoin"],
        1,
        None,
    ),
    (
        ELECTION,
        "Will the incumbent win the election?",
        "incumbent-wins",
        "tok-el-yes",
        "tok-el-no",
        9_000_000,
        300_000,
        120,
        ["politics"],
        1,
        "0xevent-election",
    ),
    (
        RAIN,
        "Will it rain in London tomorrow?",
        "rain-london",
        "tok-rain-yes",
        "tok-rain-no",
        1_200,
        50,
        1,
        ["weather"],
        0,
        None,
    ),
]


def seed(path: Path, *, now: int | None = None) -> int:
    """Fill a migrated database; returns the `now` used (epoch ms)."""
    now = now or now_ms()
    conn = raw_connection(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        _engine_state(conn, now)
        _markets(conn, now)
        _config(conn, now)
        _trading(conn, now)
        _history(conn, now)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return now


def _engine_state(conn, now: int) -> None:
    # The heartbeat ten minutes ahead: the seeded engine stays alive however slowly a loaded machine
    # renders the pages (a test of a stale heartbeat sets its own).
    conn.execute(
        """UPDATE engine_state SET state='RUNNING', desired_state='RUNNING', heartbeat_at=?, pid=4242,
                    trading_state='REDUCING', trading_state_reason='DAILY_LOSS', trading_state_at=?,
                    peak_equity=?, day_start_equity=?, day_started_at=NULL""",
        (now + 600_000, now - 60_000, 10_400 * M, 10_300 * M),
    )


def _markets(conn, now: int) -> None:
    for cid, question, slug, yes, no, volume, liquidity, days, tags, tradable, group in MARKETS:
        conn.execute(
            """INSERT INTO markets (condition_id, question, slug, yes_token, no_token, tick, min_size,
                   neg_risk,
                   neg_risk_market_id, end_at, volume, volume_24h, liquidity, tags, tradable, first_seen_at,
                   updated_at) VALUES (?, ?, ?, ?, ?, 10000, 5000000, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                cid,
                question,
                slug,
                yes,
                no,
                int(group is not None),
                group,
                now + days * 86_400_000,
                volume * M,
                volume * M // 10,
                liquidity * M,
                json.dumps(tags),
                tradable,
                now,
                now,
            ),
        )


def _config(conn, now: int) -> None:
    for spec in LIMITS:
        conn.execute(
            "INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
            "VALUES (?, ?, 1, ?, 'defaults')",
            (spec.name, str(spec.default), now),
        )
    for setting in SETTINGS:
        conn.execute(
            "INSERT INTO settings (key, value, version, updated_at, updated_by) "
            "VALUES (?, ?, 1, ?, 'defaults')",
            (setting.key, json.dumps(setting.default), now),
        )
    strategies = [
        ("mm-btc", "market_making", {"half_spread": 0.02, "size": 10}, [BTC], 1, "ok", None),
        (
            "vb-election",
            "value_betting",
            {"edge": 0.03},
            {"filter": {"text": "election", "min_liquidity": 1000}},
            0,
            "error",
            "ZeroDivisionError: division by zero",
        ),
    ]
    for name, kind, params, markets, enabled, status, error in strategies:
        conn.execute(
            # Promoted (live = 1): the seeded desk's strategies trade live when it does.
            """INSERT INTO strategies (name, kind, params, markets, enabled, status, last_error, version,
                            created_at, updated_at, updated_by, live) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?,
            'seed', 1)""",
            (name, kind, json.dumps(params), json.dumps(markets), enabled, status, error, now, now),
        )
    conn.execute(
        """INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by)
                    VALUES (?, 'operator', 610000, 1, ?, 'dashboard'), (?, 'model', 580000, 3, ?, 'model')""",
        (ELECTION, now, ELECTION, now),
    )


def _order(
    conn,
    oid: int,
    now: int,
    *,
    strategy: str,
    cid: str,
    token: str,
    side: str,
    price: int,
    size: int,
    filled: int,
    status: str,
    rank: int,
    mode: str = "paper",
    age_ms: int = 0,
) -> None:
    conn.execute(
        """INSERT INTO orders (id, client_id, venue_order_id, mode, strategy, condition_id, token_id,
               outcome, side,
               price, size, filled, tif, status, status_rank, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'YES', ?, ?, ?, ?, 'GTC', ?, ?, ?, ?)""",
        (
            oid,
            f"c{oid}",
            f"v{oid}",
            mode,
            strategy,
            cid,
            token,
            side,
            price,
            size,
            filled,
            status,
            rank,
            now - age_ms,
            now - age_ms,
        ),
    )


def _trading(conn, now: int) -> None:
    _order(
        conn,
        1,
        now,
        strategy="mm-btc",
        cid=BTC,
        token=YES_BTC,
        side="BUY",
        price=480_000,
        size=10 * M,
        filled=0,
        status="LIVE",
        rank=10,
        age_ms=5_000,
    )
    _order(
        conn,
        2,
        now,
        strategy="mm-btc",
        cid=BTC,
        token=YES_BTC,
        side="SELL",
        price=520_000,
        size=10 * M,
        filled=0,
        status="LIVE",
        rank=10,
        age_ms=5_000,
    )
    _order(
        conn,
        3,
        now,
        strategy="mm-btc",
        cid=BTC,
        token=YES_BTC,
        side="BUY",
        price=470_000,
        size=20 * M,
        filled=20 * M,
        status="FILLED",
        rank=100,
        age_ms=3_600_000,
    )
    _order(
        conn,
        4,
        now,
        strategy="vb-election",
        cid=ELECTION,
        token="tok-el-yes",
        side="BUY",
        price=550_000,
        size=50 * M,
        filled=0,
        status="CANCELED",
        rank=100,
        age_ms=7_200_000,
    )
    _order(
        conn,
        5,
        now,
        strategy="mm-btc",
        cid=BTC,
        token=YES_BTC,
        side="BUY",
        price=450_000,
        size=5 * M,
        filled=0,
        status="LIVE",
        rank=10,
        mode="live",
        age_ms=1_000,
    )
    fills = [("t1", 3, "CONFIRMED", 30, 10 * M), ("t2", 3, "MATCHED", 10, 10 * M)]
    for trade, order_id, status, rank, size in fills:
        conn.execute(
            """INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side,
                            price, size, fee, liquidity, status, status_rank, matched_at, updated_at)
                        VALUES (?, ?, 'paper', 'mm-btc', ?, ?, 'YES', 'BUY', 470000, ?, 10000, 'MAKER',
            ?, ?, ?, ?)""",
            (trade, order_id, BTC, YES_BTC, size, status, rank, now - 3_500_000, now),
        )
    conn.execute(
        """INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled, pending, cost,
                        realized, fees, updated_at) VALUES ('paper', 'mm-btc', ?, ?, 'YES', ?, ?, ?, ?,
        ?, ?)""",
        (YES_BTC, BTC, 10 * M, 10 * M, 9_400_000, 1_250_000, 20_000, now),
    )
    conn.execute(
        """INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, settled, pending, cost,
                        realized, fees, updated_at) VALUES ('paper', 'vb-election', 'tok-el-yes', ?,
                        'YES', 0, 0, 0,
                        -3000000, 50000, ?)""",
        (ELECTION, now),
    )


def _history(conn, now: int) -> None:
    equity = [10_000, 10_200, 10_400, 10_250, 10_100]
    for i, value in enumerate(equity):
        at = now - (len(equity) - i) * 3_600_000
        conn.execute(
            """INSERT INTO portfolio_snapshots (mode, at, cash, positions_value, liquidation_value, equity,
                            realized, unrealized, fees, exposure) VALUES ('paper', ?, ?, ?, ?, ?, ?, ?,
            ?, ?)""",
            (at, (value - 10) * M, 10 * M, 9 * M, value * M, (i * 100) * M, -400_000, 20_000, 9_400_000),
        )
    book = {"b": [[490_000, 100 * M], [480_000, 250 * M]], "a": [[510_000, 80 * M], [520_000, 300 * M]]}
    conn.execute(
        "INSERT INTO ticks (at, token_id, kind, mid, data) VALUES (?, ?, 'book', 500000, ?)",
        (now - 600_000, YES_BTC, json.dumps(book)),
    )
    # Change rows as the recorder writes them: data = [[is_bid, price, new size], ...].
    conn.execute(
        "INSERT INTO ticks (at, token_id, kind, mid, data) VALUES (?, ?, 'change', 502500, ?)",
        (now - 300_000, YES_BTC, json.dumps([[1, 495_000, 40 * M]])),
    )
    conn.execute(
        "INSERT INTO ticks (at, token_id, kind, mid, data) VALUES (?, ?, 'change', 507500, ?)",
        (now - 200_000, YES_BTC, json.dumps([[0, 510_000, 0]])),
    )
    for i in range(60):
        conn.execute(
            "INSERT INTO ticks (at, token_id, kind, side, price, size, mid) VALUES (?, ?, 'trade', 'BUY', "
            "?, 1000000, ?)",
            (now - 3_600_000 + i * 50_000, YES_BTC, 480_000 + i * 500, 480_000 + i * 500),
        )
    conn.execute(
        """INSERT INTO alerts (created_at, level, source, code, message) VALUES
                    (?, 'warning', 'risk', 'DAILY_LOSS',
                     'trading state REDUCING: down 200.00 pUSD since 00:00 UTC'),
                    (?, 'critical', 'engine', 'STRATEGY_ERROR',
                     'strategy vb-election raised and was disabled')""",
        (now - 60_000, now - 120_000),
    )
    conn.execute(
        """INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES
                    (?, 'dashboard', 'risk_limit.update', 'risk_limits:max_open_orders', '{"value": "50"}',
                     '{"value": "60"}')""",
        (now - 86_400_000,),
    )
    conn.execute(
        """INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved, action,
                        reason, detail) VALUES (?, 'paper', 'mm-btc', ?, 'BUY', 480000, 10000000, 0, 'deny',
                        'TRADING_REDUCING', 'only risk-reducing orders'),
                        (?, 'paper', 'mm-btc', ?, 'BUY', 480000, 10000000, 4000000, 'resize',
                        'MAX_MARKET_EXPOSURE', 'room 1.92 pUSD')""",
        (now - 30_000, BTC, now - 90_000, BTC),
    )
