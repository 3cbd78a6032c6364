"""The dashboard's users (issue 76, roles): only an administrator adds, changes or removes one; each
change is versioned and audited with its role before and after (never a password or its hash); and
every writer a login reaches checks its role before it writes: a viewer writes nothing, an operator
trades but does not arm, change settings or manage users, and a command carries who posted it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.command_kinds import KINDS
from contracts.passwords import verify_password
from contracts.roles import COMMAND_SCOPES, Access, AccessRefused, Role
from storage.command_queue.commands import post_command
from storage.desk import config, dashboard_users
from storage.desk.config import ConfigError, StaleVersion
from storage.engine_stores.config_reads import ensure_setting_defaults
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import decoded

ADMIN = Access("boss", Role.ADMIN, "dashboard:boss")
OPERATOR = Access("alice", Role.OPERATOR, "dashboard:alice")
VIEWER = Access("vic", Role.VIEWER, "dashboard:vic")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path / "none.env"))
    migrate(tmp_path / "u.db")
    database = Database(tmp_path / "u.db")
    with database.write() as conn:
        ensure_setting_defaults(conn)
    yield database
    database.dispose()


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_an_administrator_adds_changes_and_removes_a_user_each_audited(db: Database) -> None:
    admin = db.acting_as(ADMIN)
    added = dashboard_users.add_user(admin, name=" Alice ", password="a long password", role="operator",
                                     venue=None, actor=ADMIN.actor)
    assert (added.name, added.role, added.version) == ("alice", Role.OPERATOR, 1)
    assert verify_password("a long password", dashboard_users.users(db)[0].password_hash)
    version = dashboard_users.change_user(admin, name="alice", version=1, role="viewer", venue=None, password=None,
                                          actor=ADMIN.actor)
    assert version == 2 and dashboard_users.user(db, "alice").role is Role.VIEWER
    dashboard_users.remove_user(admin, name="alice", version=2, actor=ADMIN.actor)
    assert dashboard_users.users(db) == []
    audit = _rows(db, "SELECT actor, action, entity, before, after FROM audit_log "
                      "WHERE action LIKE 'user.%' ORDER BY id")
    assert [(a, act, e) for a, act, e, _, _ in audit] == [("dashboard:boss", f"user.{verb}", "dashboard_user:alice")
                                                          for verb in ("add", "change", "remove")]
    assert decoded(audit[1][3]) == {"role": "operator", "venue": None}
    assert decoded(audit[1][4]) == {"role": "viewer", "venue": None}
    assert "scrypt" not in str(audit) and "a long password" not in str(audit)


def test_a_role_change_made_meanwhile_is_refused_as_stale(db: Database) -> None:
    dashboard_users.add_user(db, name="bob", password="a long password", role="viewer", venue=None, actor="t")
    dashboard_users.change_user(db, name="bob", version=1, role="operator", venue=None, password=None, actor="t")
    with pytest.raises(StaleVersion):
        dashboard_users.change_user(db, name="bob", version=1, role="admin", venue=None, password=None, actor="t")
    assert dashboard_users.user(db, "bob").role is Role.OPERATOR


@pytest.mark.parametrize(("name", "role", "venue", "password"), [
    ("admin", "operator", None, "a long password"),  # the .env administrator's name
    ("viewer", "viewer", None, "a long password"),
    ("no spaces please", "operator", None, "a long password"),
    ("carol", "owner", None, "a long password"),
    ("carol", "viewer", "kalshi", "a long password"),  # only an operator is held to a venue
    ("carol", "operator", "nasdaq", "a long password"),
    ("carol", "operator", None, "short"),
])
def test_bad_users_are_refused_with_a_reason_and_nothing_stored(db: Database, name: str, role: str,
                                                                venue: str | None, password: str) -> None:
    with pytest.raises(ConfigError):
        dashboard_users.add_user(db, name=name, password=password, role=role, venue=venue, actor="t")
    assert dashboard_users.users(db) == []


@pytest.mark.parametrize("access", [OPERATOR, VIEWER])
def test_only_an_administrator_manages_users(db: Database, access: Access) -> None:
    dashboard_users.add_user(db, name="dave", password="a long password", role="viewer", venue=None, actor="t")
    as_them = db.acting_as(access)
    with pytest.raises(AccessRefused, match="refused"):
        dashboard_users.add_user(as_them, name="eve", password="a long password", role="admin", venue=None,
                                 actor=access.actor)
    with pytest.raises(AccessRefused):
        dashboard_users.change_user(as_them, name="dave", version=1, role="admin", venue=None, password=None,
                                    actor=access.actor)
    with pytest.raises(AccessRefused):
        dashboard_users.remove_user(as_them, name="dave", version=1, actor=access.actor)
    assert [(u.name, u.role) for u in dashboard_users.users(db)] == [("dave", Role.VIEWER)]


def test_an_operator_trades_but_does_not_arm_or_change_settings(db: Database) -> None:
    operator = db.acting_as(OPERATOR)
    row = post_command(operator, "pause", {}, actor=OPERATOR.actor)
    assert _rows(db, f"SELECT kind, actor FROM commands WHERE id = {row.id}") == [("pause", "dashboard:alice")]
    for kind, payload in (("set_mode", {"mode": "live"}), ("set_venue_mode", {"venue": "kalshi", "mode": "live"})):
        with pytest.raises(AccessRefused, match="administrator"):
            post_command(operator, kind, payload, actor=OPERATOR.actor)
    with pytest.raises(AccessRefused, match="administrator"):
        config.save_settings(operator, {"tick_interval_ms": (1000, None)}, actor=OPERATOR.actor)
    assert _rows(db, "SELECT kind FROM commands") == [("pause",)]


def test_a_viewer_posts_nothing_not_even_a_kill(db: Database) -> None:
    with pytest.raises(AccessRefused, match="read-only"):
        post_command(db.acting_as(VIEWER), "kill", {"reason": "x"}, actor=VIEWER.actor)
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]


def test_every_command_kind_has_a_scope() -> None:
    assert {kind.name for kind in KINDS} <= set(COMMAND_SCOPES), "place each new command kind in contracts/roles.py"


def test_an_operator_held_to_one_venue_acts_only_there(db: Database) -> None:
    kalshi_only = db.acting_as(Access("kim", Role.OPERATOR, "dashboard:kim", "kalshi"))
    with pytest.raises(AccessRefused, match="Kalshi only"):
        config.set_fair_value(kalshi_only, condition_id="0x" + "ab" * 32, fair_value=500_000, actor="dashboard:kim")
    with pytest.raises(AccessRefused, match="whole desk"):
        post_command(kalshi_only, "start", {}, actor="dashboard:kim")
    post_command(kalshi_only, "kill", {"reason": "lowering risk is anyone's"}, actor="dashboard:kim")
    assert _rows(db, "SELECT kind, actor FROM commands") == [("kill", "dashboard:kim")]
