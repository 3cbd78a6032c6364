"""Strategy templates as stored (storage/desk/strategy_templates.py) on a real SQLite file: saved from a
strategy or given, checked as a strategy's params are at its save; renamed and deleted by the version the
trader saw; each write audited and refused to a viewer or an operator held to one venue; a strategy created
from one is an ordinary, paper-only strategy; and a template itself never trades: the engine hosts only
strategies, and nothing of its trading code reads templates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.roles import Access, AccessRefused, Role
from storage.desk import config
from storage.desk import strategy_templates as templates
from storage.desk.config import ConfigError, StaleVersion
from storage.engine_stores.trading_reads import enabled_strategies
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT

MARKET = "0x" + "a" * 64


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path / "none.env"))  # a strategy's save reads the settings
    migrate(tmp_path / "t.db")
    database = Database(tmp_path / "t.db")
    yield database
    database.dispose()


def _audit(db: Database) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text("""SELECT action, entity, before, after FROM audit_log
                                                       WHERE action LIKE 'template.%' ORDER BY id"""))]


def test_a_strategy_saved_as_a_template_creates_strategies_and_the_template_never_trades(db: Database) -> None:
    config.create_strategy(db, name="mm", kind="market_making", params={"size": 12, "half_spread": 0.03},
                           markets=[MARKET], enabled=True, actor="t")
    saved = templates.save_strategy_as_template(db, strategy="mm", name="tight mm", actor="dashboard:olive")
    assert (saved.kind, saved.params, saved.version) == ("market_making", {"half_spread": 0.03, "size": 12}, 1)
    assert [t.name for t in templates.list_templates(db)] == ["tight mm"]
    with db.read() as conn:  # what the engine hosts: the strategy, never the template
        assert [s["name"] for s in enabled_strategies(conn)] == ["mm"]
    templates.create_from_template(db, template="tight mm", name="mm-2", markets={"filter": {"max_markets": 3}},
                                   enabled=True, actor="t")
    with db.read() as conn:
        row = conn.execute(text("SELECT kind, params, markets, live FROM strategies WHERE name = 'mm-2'")).one()
    assert (row[0], json.loads(row[1]), json.loads(row[2]), row[3]) == (
        "market_making", {"half_spread": 0.03, "size": 12}, {"filter": {"max_markets": 3}}, 0)  # paper only
    assert _audit(db) == [("template.save", "strategy_template:tight mm", None,
                           json.dumps({"kind": "market_making", "params": {"half_spread": 0.03, "size": 12}}))]


def test_nothing_of_the_engine_that_trades_reads_templates() -> None:
    """The engine hosts, promotes and arms strategies; only the CLI's `templates` names the table."""
    readers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "engine").rglob("*.py")
               if "strategy_templates" in p.read_text() and p.relative_to(ROOT).parts[:2] != ("engine", "cli")]
    assert readers == []


def test_a_template_is_checked_as_a_strategy_is_at_its_save(db: Database) -> None:
    with pytest.raises(ConfigError) as bad:
        templates.save_template(db, name="bad", kind="market_making", params={"size": "lots", "half_spread": 7},
                                actor="t")
    assert {"params.size", "params.half_spread"} <= bad.value.fields.keys() and "nothing saved" in str(bad.value)
    with pytest.raises(ConfigError, match="unknown strategy kind 'nope'"):
        templates.save_template(db, name="x", kind="nope", params={}, actor="t")
    with pytest.raises(ConfigError, match="needs a name"):
        templates.save_template(db, name="  ", kind="market_making", params={}, actor="t")
    templates.save_template(db, name="mm", kind="market_making", params={"size": 5}, actor="t")
    with pytest.raises(ConfigError, match="already exists"):
        templates.save_template(db, name="mm", kind="market_making", params={}, actor="t")
    with pytest.raises(ConfigError, match="no strategy named 'ghost'"):
        templates.save_strategy_as_template(db, strategy="ghost", name="g", actor="t")
    with pytest.raises(ConfigError, match="no template named 'ghost'"):
        templates.create_from_template(db, template="ghost", name="s", markets=[], enabled=False, actor="t")
    assert [t.name for t in templates.list_templates(db)] == ["mm"]


def test_rename_and_delete_go_by_the_version_seen_and_are_audited(db: Database) -> None:
    first = templates.save_template(db, name="mm", kind="market_making", params={"size": 5}, actor="t")
    templates.save_template(db, name="other", kind="market_making", params={}, actor="t")
    with pytest.raises(ConfigError, match="'other' already exists"):
        templates.rename_template(db, name="mm", new_name="other", version=first.version, actor="t")
    renamed = templates.rename_template(db, name="mm", new_name="mm wide", version=first.version, actor="t")
    assert (renamed.name, renamed.version, renamed.params) == ("mm wide", 2, {"size": 5})
    with pytest.raises(StaleVersion):  # the trader saw version 1
        templates.delete_template(db, name="mm wide", version=1, actor="t")
    with pytest.raises(ConfigError, match="no template named 'mm'"):
        templates.rename_template(db, name="mm", new_name="x", version=1, actor="t")
    templates.delete_template(db, name="mm wide", version=2, actor="t")
    assert [t.name for t in templates.list_templates(db)] == ["other"]
    assert [(a, e) for a, e, _, _ in _audit(db)] == [
        ("template.save", "strategy_template:mm"), ("template.save", "strategy_template:other"),
        ("template.rename", "strategy_template:mm wide"), ("template.delete", "strategy_template:mm wide")]


def test_templates_are_the_desks_configuration_refused_to_a_viewer_or_an_operator_of_one_venue(db: Database) -> None:
    templates.save_template(db, name="mm", kind="market_making", params={}, actor="t")
    for access in (Access("vic", Role.VIEWER, "dashboard:vic"),
                   Access("kim", Role.OPERATOR, "dashboard:kim", "kalshi")):
        them = db.acting_as(access)
        with pytest.raises(AccessRefused, match="strategy template 'x' was refused"):
            templates.save_template(them, name="x", kind="market_making", params={}, actor=access.actor)
        with pytest.raises(AccessRefused):
            templates.rename_template(them, name="mm", new_name="y", version=1, actor=access.actor)
        with pytest.raises(AccessRefused):
            templates.delete_template(them, name="mm", version=1, actor=access.actor)
    olive = db.acting_as(Access("olive", Role.OPERATOR, "dashboard:olive"))
    templates.rename_template(olive, name="mm", new_name="mm2", version=1, actor="dashboard:olive")
    assert [t.name for t in templates.list_templates(db)] == ["mm2"] and len(_audit(db)) == 2
