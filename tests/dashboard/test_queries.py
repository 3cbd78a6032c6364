"""storage.dashboard_queries.status_queries reads and storage.desk.config writes, without the UI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from storage.dashboard_queries import market_queries, portfolio_queries, trading_queries
from storage.dashboard_queries import status_queries as queries
from storage.desk import config
from storage.sqlite.db import Database, now_ms
from storage.sqlite.frames import utc_day_start
from tests.dashboard.seed import BTC, ELECTION, YES_BTC


def _count(db: Database, sql: str) -> int:
    with db.read() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_status_summary_has_trading_state_orders_and_positions(seeded: int, db: Database) -> None:
    summary = queries.status_summary(db)
    assert summary["trading_state"] == "REDUCING" and summary["trading_reason"] == "DAILY_LOSS"
    assert summary["open_orders"] == 2  # paper only: the live order belongs to the other ledger
    assert summary["positions"] == 1 and summary["positions_cost_usdc"] == 9.4
    assert summary["engine_up"] is True and summary["unacked_alerts"] == 2


def test_equity_curve_is_downsampled_in_sql_and_keeps_the_peak(db: Database) -> None:
    base = now_ms() - 10_000 * 60_000
    rows = [
        {"at": base + i * 60_000, "eq": (10_000 + (500 if i == 4321 else i % 7)) * 1_000_000}
        for i in range(10_000)
    ]
    with db.write() as conn:
        conn.execute(
            text("""INSERT INTO portfolio_snapshots (mode, at, cash, positions_value, liquidation_value,
                                 equity, realized, unrealized, fees, exposure)
                             VALUES ('paper', :at, 0, 0, 0, :eq, 0, 0, 0, 0)"""),
            rows,
        )
    curve = portfolio_queries.equity_curve(db, "paper", max_points=200)
    assert 100 < len(curve) <= 201
    assert curve["peak"].max() == 10_500.0  # a one-sample spike inside a bucket still sets the peak
    assert curve["drawdown_pct"].iloc[-1] == pytest.approx((10_500 - curve["equity"].iloc[-1]) / 10_500 * 100)
    assert str(curve["at"].dt.tz) == "UTC"
    assert portfolio_queries.equity_curve(db, "live").empty


def test_pnl_today_uses_the_engines_reference_when_it_is_today(seeded: int, db: Database) -> None:
    with db.write() as conn:
        conn.execute(
            text("UPDATE engine_state SET day_start_equity = 10000000000, day_started_at = :d"),
            {"d": utc_day_start(now_ms())},
        )
    pnl = portfolio_queries.pnl_today(db, "paper")
    assert (
        pnl is not None
        and pnl.equity == 10_100
        and pnl.total == 100
        and pnl.unrealized == pytest.approx(-0.4)
    )
    assert portfolio_queries.pnl_today(db, "live") is None


def test_risk_usage_groups_by_market_strategy_and_event(seeded: int, db: Database) -> None:
    with db.write() as conn:
        conn.execute(
            text("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side,
                                 price, size, filled, tif, status, status_rank, created_at, updated_at)
                             VALUES ('ev', 'paper', 'vb-election', :c, 'tok-el-yes', 'YES', 'BUY',
                                     600000, 10000000,
                                     4000000, 'GTC', 'PARTIALLY_FILLED', 20, 0, 0)"""),
            {"c": ELECTION},
        )
    usage = portfolio_queries.risk_usage(db, "paper")
    assert usage.total_exposure == pytest.approx(9.4 + 4.8 + 3.6)
    by_market = dict(zip(usage.by_market["condition_id"], usage.by_market["exposure"], strict=True))
    assert by_market == {BTC: pytest.approx(14.2), ELECTION: pytest.approx(3.6)}
    assert set(usage.by_event["event"]) == {BTC, "0xevent-election"}
    assert usage.open_orders == 3 and usage.orders_last_minute == 2


def test_price_series_is_downsampled_by_index_seeks(db: Database) -> None:
    rows = [{"at": 1_000_000 + i * 1000, "mid": 400_000 + i} for i in range(20_000)]
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO ticks (at, token_id, kind, mid) VALUES (:at, 'tok', 'change', :mid)"), rows
        )
        conn.execute(
            text("INSERT INTO ticks (at, token_id, kind, price) VALUES (5000000000, 'tok', 'trade', 1)")
        )
    lo, hi = market_queries.tick_bounds(db, "tok")  # type: ignore[misc]  # a tick was just written: the bounds exist
    assert (lo, hi) == (1_000_000, 5_000_000_000)
    series = market_queries.price_series(db, "tok", 1_000_000, 1_000_000 + 19_999_000, points=100)
    assert 90 <= len(series) <= 101
    assert series["mid"].iloc[-1] == pytest.approx(0.419999)  # each bucket's last mid
    assert market_queries.price_series(db, "nothing", 0, 10).empty


def test_a_wide_range_or_one_past_the_ticks_reads_the_kept_candles(db: Database) -> None:
    """Hourly candles for two days (mid 0.30 then 0.31 ...), ticks only for the last hour (mid 0.90): a
    narrow window inside the ticks reads ticks; one that starts before them reads the candles for the
    part the ticks no longer hold; a wide one reads the candles whole."""
    from contracts.candles import Candle, rolled_up
    from storage.engine_stores.candle_store import merge_candles
    from storage.sqlite.db import raw_connection

    hour, t0 = 3_600_000, 1_767_225_600_000
    minutes = []
    for n in range(48):
        candle = Candle("tok", 60_000, t0 + n * hour)
        candle.add_mid(t0 + n * hour, 300_000 + n * 10_000, 10_000)
        minutes.append(candle)
    raw = raw_connection(db.path)
    try:
        merge_candles(raw, rolled_up(minutes))
    finally:
        raw.close()
    last = t0 + 48 * hour
    with db.write() as conn:
        conn.execute(text("INSERT INTO ticks (at, token_id, kind, mid) VALUES (:at, 'tok', 'change', 900000)"),
                     [{"at": last - hour + i * 60_000} for i in range(60)])
    assert market_queries.price_bounds(db, "tok") == (t0, last - 60_000)
    narrow = market_queries.price_series(db, "tok", last - 30 * 60_000, last)
    assert narrow.attrs["source"] == "recorded ticks" and set(narrow["mid"]) == {0.9}
    both = market_queries.price_series(db, "tok", last - 3 * hour, last)
    assert both.attrs["source"] == "1 min candles and recorded ticks"
    assert list(both["mid"].iloc[:2]) == [pytest.approx(0.75), pytest.approx(0.76)] and both["mid"].iloc[-1] == 0.9
    wide = market_queries.price_series(db, "tok", t0, last)
    assert wide.attrs["source"] == "5 min candles" and len(wide) == 48  # a bucket of 7.2 min: the widest within it
    assert wide["mid"].iloc[0] == pytest.approx(0.3) and wide["mid"].iloc[-1] == pytest.approx(0.77)


def test_ticks_recorded_before_the_candles_are_read_while_they_last(db: Database) -> None:
    """A desk that upgraded: two days of ticks (mid 0.40), candles only for its last hour (mid 0.60). A
    wide window reads the ticks, not an hour of candles; once retention rolled the old ticks in, the
    candles hold it (the last test's case)."""
    from contracts.candles import Candle, rolled_up
    from storage.engine_stores.candle_store import merge_candles
    from storage.sqlite.db import raw_connection

    hour, t0 = 3_600_000, 1_767_225_600_000
    last = t0 + 48 * hour
    with db.write() as conn:
        conn.execute(text("INSERT INTO ticks (at, token_id, kind, mid) VALUES (:at, 'tok', 'change', 400000)"),
                     [{"at": t0 + i * 600_000} for i in range(48 * 6)])
    minute = Candle("tok", 60_000, last - hour)
    minute.add_mid(last - hour, 600_000, 10_000)
    raw = raw_connection(db.path)
    try:
        merge_candles(raw, rolled_up([minute]))
    finally:
        raw.close()
    wide = market_queries.price_series(db, "tok", t0, last)
    assert wide.attrs["source"] == "recorded ticks" and wide["mid"].iloc[0] == pytest.approx(0.4)


def test_latest_book_replays_later_changes(seeded: int, db: Database) -> None:
    book = market_queries.latest_book(db, YES_BTC)
    assert book is not None and book.complete and book.changes_applied == 2
    assert book.bids == [(0.495, 40.0), (0.49, 100.0), (0.48, 250.0)]
    assert book.asks == [(0.52, 300.0)]  # 0.51 was removed by a size-0 change
    assert market_queries.latest_book(db, "tok-unknown") is None


def test_strategy_rows_from_the_list_equal_the_single_row_reads(seeded: int, db: Database) -> None:
    with db.write() as conn:  # a third shape: params and markets that are not valid JSON
        conn.execute(
            text("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at,
                        updated_at, updated_by) VALUES ('odd', 'market_making', 'not json', '[1', 1, 4,
                        1, 1800000000123, 'x')""")
        )
    rows = trading_queries.strategy_rows(trading_queries.strategies(db))
    assert list(rows) == ["mm-btc", "odd", "vb-election"]
    for name, row in rows.items():
        assert row == trading_queries.strategy_row(db, name)
        assert type(row.version) is int and type(row.updated_at) is int
    assert rows["odd"].updated_at == 1_800_000_000_123 and rows["odd"].markets == "[1"
    assert rows["vb-election"].last_error == "ZeroDivisionError: division by zero"


def test_latest_book_given_the_last_tick_time_reads_the_same_book(seeded: int, db: Database) -> None:
    bounds = market_queries.tick_bounds(db, YES_BTC)
    assert bounds is not None
    assert market_queries.latest_book(db, YES_BTC, last_tick_at=bounds[1]) == market_queries.latest_book(db, YES_BTC)


def test_latest_book_accepts_venue_decimal_strings(db: Database) -> None:
    data = json.dumps({"b": [["0.45", "12.5"]], "a": [["0.55", "3"]]})
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO ticks (at, token_id, kind, data) VALUES (1, 't', 'book', :d)"), {"d": data}
        )
    book = market_queries.latest_book(db, "t")
    assert book is not None and book.bids == [(0.45, 12.5)] and book.asks == [(0.55, 3.0)]


def test_market_search_escapes_like_wildcards(seeded: int, db: Database) -> None:
    assert market_queries.count_markets(db, market_queries.MarketFilter(text="%")) == 0
    # A condition id matches exactly.
    assert market_queries.count_markets(db, market_queries.MarketFilter(text=BTC)) == 1


def test_trade_filter_combines_clauses(seeded: int, db: Database) -> None:
    spec = trading_queries.TradeFilter(mode="paper", strategy="mm-btc", statuses=("LIVE", "FILLED"), open_only=True)
    assert sorted(trading_queries.orders(db, spec)["id"]) == [1, 2]
    assert trading_queries.count_orders(db, spec) == 2
    assert trading_queries.count_fills(db, trading_queries.TradeFilter(statuses=("FAILED",))) == 0


# -- storage.desk.config ---------------------------------------------------------------------------------


def test_every_versioned_write_refuses_a_stale_version(seeded: int, db: Database) -> None:
    with pytest.raises(config.StaleVersion, match="changed elsewhere — reload"):
        config.save_strategy(db, name="mm-btc", version=7, params={}, markets=[], actor="t")
    with pytest.raises(config.StaleVersion):
        config.set_strategy_enabled(db, name="mm-btc", version=0, enabled=False, actor="t")
    with pytest.raises(config.StaleVersion):
        config.save_risk_limit(
            db, name="max_open_orders", value="1", version=None, actor="t"
        )  # exists already
    with pytest.raises(config.StaleVersion):
        config.save_setting(db, key="tick_interval_ms", value=100, version=3, actor="t")
    assert (
        _count(db, "SELECT COUNT(*) FROM audit_log") == 1 and _count(db, "SELECT COUNT(*) FROM commands") == 0
    )


def test_a_batch_of_limits_is_all_or_nothing(seeded: int, db: Database) -> None:
    changes = {"max_open_orders": config.Change("70", 1), "max_drawdown": config.Change("15", 9)}
    with pytest.raises(config.StaleVersion, match="'max_drawdown'"):
        config.save_risk_limits(db, changes, actor="t")
    assert _count(db, "SELECT COUNT(*) FROM risk_limits WHERE version > 1") == 0
    assert _count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'risk_limit.update'") == 1  # the seed's


def test_create_refuses_a_duplicate_and_an_empty_name(seeded: int, db: Database) -> None:
    with pytest.raises(config.ConfigError, match="already exists"):
        config.create_strategy(
            db, name="mm-btc", kind="momentum", params={}, markets=[], enabled=False, actor="t"
        )
    with pytest.raises(config.ConfigError, match="needs a name"):
        config.create_strategy(
            db, name="  ", kind="momentum", params={}, markets=[], enabled=False, actor="t"
        )


def test_fair_value_bounds_and_versions(db: Database) -> None:
    with pytest.raises(config.ConfigError, match="no market 'c' is known"):  # a typo must not be stored
        config.set_fair_value(db, condition_id="c", fair_value=10, actor="t")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size,
                                 first_seen_at, updated_at) VALUES ('c', 'Q?', 'y', 'n', 10000, 5000000, 0, 0)"""))
    with pytest.raises(config.ConfigError):
        config.set_fair_value(db, condition_id="c", fair_value=1_000_001, actor="t")
    assert config.set_fair_value(db, condition_id="c", fair_value=10, actor="t").version == 1
    assert config.set_fair_value(db, condition_id="c", fair_value=20, actor="t").version == 2
    reload_id = config.clear_fair_value(db, condition_id="c", actor="t")
    status = queries.command_status(db, reload_id) if reload_id is not None else None
    assert status is not None and status["kind"] == "reload_config"
    assert config.clear_fair_value(db, condition_id="c", actor="t") is None


def test_ack_alert_is_audited_once(seeded: int, db: Database) -> None:
    assert config.ack_alert(db, 1, actor="t") is True
    assert config.ack_alert(db, 1, actor="t") is False
    assert _count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'alert.ack'") == 1


def test_latest_book_reads_single_level_change_rows_too(db: Database) -> None:
    book = json.dumps({"b": [[400_000, 5_000_000]], "a": [[600_000, 7_000_000]]})
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO ticks (at, token_id, kind, data) VALUES (1, 't', 'book', :d)"), {"d": book}
        )
        conn.execute(
            text(
                "INSERT INTO ticks (at, token_id, kind, side, price, size) VALUES "
                "(2, 't', 'change', 'SELL', 600000, 0), (3, 't', 'change', 'BUY', 410000, 1000000)"
            )
        )
        conn.execute(
            text("INSERT INTO ticks (at, token_id, kind, data) VALUES (4, 't', 'change', :d)"),
            {"d": json.dumps([[1, 400_000, 0], [0, 650_000, 2_000_000]])},
        )
    view = market_queries.latest_book(db, "t")
    assert view is not None and view.changes_applied == 3
    assert view.bids == [(0.41, 1.0)] and view.asks == [(0.65, 2.0)]
