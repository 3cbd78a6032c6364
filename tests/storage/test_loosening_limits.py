"""The one writer of limits refuses a change that switches protection off unless it is confirmed, and
audits the confirmation (issue 73 item 1): judged against the account's equity as the desk knows it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.desk import config
from storage.desk.config import Change, Unprotected
from storage.engine_stores.config_reads import ensure_limit_defaults, ensure_setting_defaults
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path / "none.env"))
    migrate(tmp_path / "c.db")
    database = Database(tmp_path / "c.db")
    with database.write() as conn:
        ensure_limit_defaults(conn)
        ensure_setting_defaults(conn)
    yield database
    database.dispose()


def _stored(db: Database, name: str) -> str:
    with db.read() as conn:
        return str(conn.execute(text("SELECT value FROM risk_limits WHERE name = :n"), {"n": name}).scalar())


def _audit(db: Database) -> list[tuple[str, str, dict, dict]]:
    with db.read() as conn:
        found = conn.execute(text("SELECT action, entity, before, after FROM audit_log ORDER BY id")).all()
    return [(a, e, json.loads(b or "null"), json.loads(c)) for a, e, b, c in found]


def test_switching_protection_off_is_refused_until_confirmed_then_audited_as_such(db: Database) -> None:
    changes = {"max_daily_loss": Change("9000000", 1), "kill_switch_drawdown": Change("100", 1),
               "max_open_orders": Change("50", 1)}
    with pytest.raises(Unprotected) as refused:
        config.save_risk_limits(db, changes, actor="dashboard")
    assert set(refused.value.fields) == {"max_daily_loss", "kill_switch_drawdown"}  # not the harmless one
    assert "account's equity (10,000 pUSD)" in refused.value.fields["max_daily_loss"]  # the paper starting cash
    assert "kill switch would never trip" in str(refused.value) and "confirm it to save" in str(refused.value)
    assert (_stored(db, "max_daily_loss"), _stored(db, "kill_switch_drawdown"), _stored(db, "max_open_orders")) \
        == ("100", "20", "60")  # nothing saved
    with pytest.raises(Unprotected) as half:  # confirming one does not let the other through
        config.save_risk_limits(db, changes, actor="dashboard", confirmed={"max_daily_loss"})
    assert set(half.value.fields) == {"kill_switch_drawdown"}
    config.save_risk_limits(db, changes, actor="dashboard", confirmed={"max_daily_loss", "kill_switch_drawdown"})
    assert (_stored(db, "max_daily_loss"), _stored(db, "kill_switch_drawdown")) == ("9000000", "100")
    audit = {entity: (action, before, after) for action, entity, before, after in _audit(db)}
    action, before, after = audit["risk_limits:max_daily_loss"]
    assert action == "risk_limit.loosened" and before == {"value": "100"} and after["value"] == "9000000"
    assert "daily-loss breaker would never trip" in after["confirmed_loosening"]
    assert audit["risk_limits:kill_switch_drawdown"][0] == "risk_limit.loosened"
    assert audit["risk_limits:max_open_orders"][0] == "risk_limit.update"  # an ordinary change stays ordinary


def test_the_account_is_the_desks_newest_valuation(db: Database) -> None:
    with db.write() as conn:  # the desk's paper ledger is worth 500 now
        conn.execute(text("""INSERT INTO portfolio_snapshots (mode, at, cash, positions_value, liquidation_value,
                                 equity, realized, unrealized, fees, exposure)
                             VALUES ('paper', 1, 0, 0, 0, 500000000, 0, 0, 0, 0)"""))
    with pytest.raises(Unprotected, match=r"600 pUSD is at least the account's equity \(500 pUSD\)"):
        config.save_risk_limits(db, {"max_daily_loss": Change("600", 1)}, actor="t")
    config.save_risk_limits(db, {"max_daily_loss": Change("400", 1)}, actor="t")  # within it: no question


def test_a_strategys_own_protection_is_guarded_too(db: Database) -> None:
    config.create_strategy(db, name="mm", kind="market_making", params={}, markets=[], enabled=False, actor="t")
    config.save_strategy_limits(db, "mm", {"stop_loss_move": Change("0.1", None), "take_profit_move":
                                           Change("0.2", None)}, actor="t")  # from off: nothing to confirm
    with pytest.raises(Unprotected, match="0 turns its stop loss"):
        config.save_strategy_limits(db, "mm", {"stop_loss_move": Change("0", 1)}, actor="t")
    config.save_strategy_limits(db, "mm", {"take_profit_move": Change("0", 1)}, actor="t")  # not protection
    config.save_strategy_limits(db, "mm", {"stop_loss_move": Change("0", 1)}, actor="mcp", confirmed={"stop_loss_move"})
    action, entity, before, after = [row for row in _audit(db) if row[0].startswith("strategy_limit")][-1]
    assert (action, entity, before, after["value"]) == ("strategy_limit.loosened", "strategy_limits:mm:stop_loss_move",
                                                        {"value": "0.1"}, "0")
    assert config.stored_version(db, "mm", "stop_loss_move") == 2 and config.stored_version(db, "mm", "nope") is None
