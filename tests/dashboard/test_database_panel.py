"""The database on the dashboard (issue 91): the Settings page shows its size, its free space and the
last upkeep with what it did; the administrator runs one now (the engine's `upkeep` command), a
viewer cannot; the Audit page reads the entries the upkeep moved to the archive beside the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.engine_stores import db_upkeep
from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import table_with
from tests.dashboard.test_roles import _add, _login


def _commands(db: Database) -> list[tuple[str, str]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT kind, payload FROM commands ORDER BY id"))]


def test_settings_show_the_database_and_its_last_upkeep(db: Database, dash_env: Path,
                                                       page: Callable[..., AppTest]) -> None:
    with db.write() as conn:
        for _ in range(300):
            conn.execute(text("INSERT INTO audit_log (at, actor, action, entity, after) VALUES (:at, 'dashboard', "
                              "'x', 'y', :blob)"), {"at": now_ms() - 800 * 86_400_000, "blob": "z" * 3000})
    db_upkeep.run(dash_env, "schedule", 20.0)
    at = page("settings")
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    size = (dash_env.stat().st_size + dash_env.with_name(dash_env.name + "-wal").stat().st_size) / 2**20
    assert abs(float(tiles["Database (MiB)"]) - size) < 0.2
    assert tiles["Free space"].endswith("%") and tiles["Last upkeep (UTC)"] not in ("never", "under way")
    assert float(tiles["Audit archive (MiB)"]) > 0.5  # 300 rows of 3 kB moved there
    said = " ".join(c.value for c in at.caption)
    assert "Last upkeep (schedule" in said and "300 audit rows archived" in said


def test_the_administrator_runs_upkeep_now_and_a_viewer_cannot(db: Database, page: Callable[..., AppTest]) -> None:
    at = page("settings")
    at.button(key="db_upkeep_now").click().run()
    assert not at.exception
    assert [(kind, json.loads(payload)["reason"]) for kind, payload in _commands(db)] == [("upkeep", "dashboard")]
    assert any("Upkeep: queued" in w.value for w in at.warning)  # no engine here to answer: said so
    _add(db, "vic", "viewer")
    viewer = _login("vic").switch_page("pages/settings.py").run()
    assert not viewer.exception and any(m.label == "Database (MiB)" for m in viewer.metric)  # read, not run
    assert "db_upkeep_now" not in {b.key for b in viewer.button}


def test_the_audit_page_reads_the_archived_entries(db: Database, dash_env: Path,
                                                   page: Callable[..., AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("INSERT INTO audit_log (at, actor, action, entity, after) VALUES "
                          "(:old, 'dashboard', 'strategy.create', 'strategy:old-one', '{}'), "
                          "(:new, 'dashboard', 'strategy.create', 'strategy:new-one', '{}')"),
                     {"old": now_ms() - 400 * 86_400_000, "new": now_ms()})
    at = page("audit")
    at.toggle(key="audit_archived").set_value(True).run()
    assert any("Nothing is archived yet" in c.value for c in at.caption)
    db_upkeep.run(dash_env, "schedule", 20.0)
    at.run()
    assert list(table_with(at, "actor", "action")["entity"]) == ["strategy:old-one"]
    at.toggle(key="audit_archived").set_value(False).run()
    assert "strategy:old-one" not in list(table_with(at, "actor", "action")["entity"])
