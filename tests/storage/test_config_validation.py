"""The one writer of configuration refuses garbage with field errors, whoever calls it; and an
invalid value that reached the table anyway is reported by the engine, never silently widened."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.trading.passes import core_state
from storage.desk import config
from storage.desk.config import Change, ConfigError
from storage.engine_stores.config_reads import ensure_limit_defaults as ensure_defaults
from storage.engine_stores.config_reads import ensure_setting_defaults
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path / "none.env"))
    migrate(tmp_path / "c.db")
    database = Database(tmp_path / "c.db")
    with database.write() as conn:
        ensure_defaults(conn)
        ensure_setting_defaults(conn)
    yield database
    database.dispose()


def rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.mark.parametrize("garbage", ["abc", "NaN", "-1", "1e999999", "Infinity", ""])
def test_garbage_risk_limits_are_refused_with_the_field_named(db: Database, garbage: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config.save_risk_limits(db, {"max_total_exposure": Change(garbage, 1)}, actor="test")
    assert "max_total_exposure" in refused.value.fields
    assert rows(db, "SELECT value FROM risk_limits WHERE name = 'max_total_exposure'") == [("1000",)]
    assert rows(db, "SELECT COUNT(*) FROM audit_log") == [(0,)]


def test_unknown_names_refuse_the_whole_batch(db: Database) -> None:
    with pytest.raises(ConfigError) as refused:
        config.save_risk_limits(db, {"max_open_orders": Change("5", 1), "max_yolo": Change("1", None)},
                                actor="test")
    assert set(refused.value.fields) == {"max_yolo"}
    assert rows(db, "SELECT value FROM risk_limits WHERE name = 'max_open_orders'") == [("60",)]
    saved = config.save_risk_limits(db, {"max_open_orders": Change(" 5 ", 1)}, actor="test")
    assert saved.version == 2 and rows(db, "SELECT value FROM risk_limits WHERE name = 'max_open_orders'") == [("5",)]


@pytest.mark.parametrize(("key", "garbage"), [
    ("tick_interval_ms", "abc"), ("tick_interval_ms", float("nan")), ("tick_interval_ms", -1),
    ("snapshot_interval_s", 1e999999), ("paper_fail_rate", 2.0), ("reference_feed_url", "http://x"),
    ("no_such_setting", 1),
])
def test_garbage_settings_are_refused(db: Database, key: str, garbage: object) -> None:
    with pytest.raises(ConfigError) as refused:
        config.save_settings(db, {key: (garbage, 1)}, actor="test")
    assert key in refused.value.fields


def test_a_strategy_with_bad_params_or_markets_is_refused(db: Database) -> None:
    with pytest.raises(ConfigError) as refused:
        config.create_strategy(db, name="mm", kind="market_making", params={"size": "lots"},
                               markets={"filter": {"max_markets": 0}}, enabled=True, actor="test")
    assert "params.size" in refused.value.fields and "markets.filter.max_markets" in refused.value.fields
    with pytest.raises(ConfigError) as deep:
        config.create_strategy(db, name="mm", kind="market_making", params={"size": 10},
                               markets={"filter": {"text": "[" * 70_000}},
                               enabled=True, actor="test")
    assert "markets" in deep.value.fields
    with pytest.raises(ConfigError, match="kind"):
        config.create_strategy(db, name="x", kind="martingale", params={}, markets=[], enabled=True, actor="test")
    assert rows(db, "SELECT COUNT(*) FROM strategies") == [(0,)]


def test_an_invalid_stored_value_keeps_the_value_in_force_and_is_reported(db: Database) -> None:
    loaded = core_state.load_all(db)
    assert loaded.problems == () and loaded.limits.values["max_total_exposure"] == Decimal(1000)
    config.save_risk_limits(db, {"max_total_exposure": Change("50", 1)}, actor="test")
    tight = core_state.load_all(db, loaded)
    with db.write() as conn:  # garbage written around the writer
        conn.execute(text("UPDATE risk_limits SET value = 'abc' WHERE name = 'max_total_exposure'"))
        conn.execute(text("UPDATE settings SET value = '\"fast\"' WHERE key = 'tick_interval_ms'"))
    after = core_state.load_all(db, tight)
    assert after.limits.values["max_total_exposure"] == Decimal(50)  # not widened back to the default 1000
    assert len(after.problems) == 2 and "max_total_exposure" in after.problems[0]
    reported = core_state.report_problems(db, after.problems, set())
    again = core_state.report_problems(db, after.problems, reported)
    assert again == reported
    assert rows(db, "SELECT level, code FROM alerts") == [("critical", "CONFIG_INVALID")] * 2  # once each


def test_a_strategys_limits_are_validated_audited_and_loaded(db: Database) -> None:
    from storage.engine_stores.config_reads import load_strategy_limits

    config.create_strategy(db, name="mm", kind="market_making", params={}, markets=[], enabled=False, actor="t")
    with pytest.raises(ConfigError) as refused:
        config.save_strategy_limits(db, "mm", {"allocation": Change("-5", None), "max_yolo": Change("1", None)},
                                    actor="t")
    assert set(refused.value.fields) == {"allocation", "max_yolo"}
    with pytest.raises(ConfigError, match="no longer exists"):
        config.save_strategy_limits(db, "ghost", {"allocation": Change("5", None)}, actor="t")
    config.save_strategy_limits(db, "mm", {"allocation": Change("250", None), "stop_loss_move": Change("0.1", None)},
                                actor="t")
    with db.read() as conn:
        loaded, problems, invalid = load_strategy_limits(conn)
    assert problems == [] and invalid == {} and loaded["mm"].usdc("allocation") == 250_000_000
    assert loaded["mm"].probability("stop_loss_move") == 100_000
    assert rows(db, "SELECT entity FROM audit_log WHERE action = 'strategy_limit.update' ORDER BY entity") == [
        ("strategy_limits:mm:allocation",), ("strategy_limits:mm:stop_loss_move",)]


@pytest.mark.parametrize(("name", "tiny", "smallest"), [
    ("stop_loss_move", "1e-7", "0.000001 probability"),
    ("max_order_age", "0.0001", "0.001 seconds"),
    ("allocation", "1e-30", "0.000001 pUSD"),
    ("take_profit_pnl", "0.0000009", "0.000001 pUSD"),
])
def test_a_value_that_would_silently_mean_off_is_refused_with_the_smallest_named(
        db: Database, name: str, tiny: str, smallest: str) -> None:
    """The engine computes in micro-units and milliseconds: 1e-7 of a probability was a stop loss
    of 0 (never fires), 1e-30 pUSD an allocation of 0 (the whole wallet). Exactly 0 is off;
    anything between is refused, naming the smallest value that means something."""
    from storage.engine_stores.config_reads import load_strategy_limits

    config.create_strategy(db, name="mm", kind="market_making", params={}, markets=[], enabled=False, actor="t")
    with pytest.raises(ConfigError) as refused:
        config.save_strategy_limits(db, "mm", {name: Change(tiny, None)}, actor="t")
    assert name in refused.value.fields and smallest in str(refused.value.fields[name])
    assert "0 is exactly off" in str(refused.value.fields[name])
    config.save_strategy_limits(db, "mm", {name: Change(smallest.split()[0], None)}, actor="t")
    with db.read() as conn:
        loaded, problems, _ = load_strategy_limits(conn)
    assert problems == []
    converted = loaded["mm"].ms(name) if name == "max_order_age" else loaded["mm"].usdc(name)
    assert converted == 1  # the smallest is one unit, never 0


def test_a_global_limit_below_its_unit_is_refused_too(db: Database) -> None:
    with pytest.raises(ConfigError) as refused:
        config.save_risk_limits(db, {"max_slippage": Change("0.0000001", 1)}, actor="test")
    assert "0.000001 probability" in str(refused.value.fields["max_slippage"])
    with pytest.raises(ConfigError):
        config.save_risk_limits(db, {"max_order_size": Change("0.001", 1)}, actor="test")
    config.save_risk_limits(db, {"max_slippage": Change("0", 1)}, actor="test")  # exactly 0 stays allowed


def test_a_refusal_names_every_field_by_its_label_never_its_key(tmp_path: Path) -> None:
    """All the errors of one save at once, in the words of the form: no internal key in them."""
    from storage.desk import config

    with pytest.raises(config.ConfigError) as refused:
        config.checked_strategy("market_making", {"size": -1, "half_spread": "x"}, [])
    message = str(refused.value)
    assert "Half spread: must be a number" in message and "Size: must be at least 1" in message
    assert "params." not in message and "half_spread" not in message
    assert set(refused.value.fields) == {"params.half_spread", "params.size"}  # each still placed by its field
