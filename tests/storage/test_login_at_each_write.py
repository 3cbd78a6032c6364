"""Every write of a dashboard login is made by a login that exists at that moment, with the role it
has then (issue 86, item 1): for every writer a login's handle reaches (enumerated from the storage
modules the dashboard writes through, tests/test_dashboard_writes.py, so a new writer fails here until
it is placed), an administrator user whose page was drawn before they were removed, demoted (to an
operator, to a viewer) or given a new password (theirs, or the `.env` administrator's, which signs
every user's sessions) is refused in words and nothing is written; with the login unchanged the same
call writes. The check is the writer's own, inside its transaction: a removal that lands after the
writer's early check and before its write still stops it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contracts.backtest_spec import BacktestSpec
from contracts.passwords import hash_password
from contracts.roles import AccessRefused
from contracts.settings import load_settings
from contracts.sweep_spec import SweepSpec
from storage.command_queue.commands import post_command
from storage.desk import config, dashboard_users, pair_suggestions, strategy_lifecycle, strategy_templates, venue_pairs
from storage.desk.config import Change
from storage.desk.dashboard_logins import Login, login_in
from storage.research import launch_requests, recording_sessions
from storage.sqlite.db import Database, raw_connection
from storage.sqlite.migrations import migrate
from tests.dashboard.seed import BTC, ELECTION, seed
from tests.test_dashboard_writes import NAMED_WRITERS, _writers

PASSWORD = "a long enough password"
ADMIN_HASH = hash_password("the desk's own password")
OTHER_HASH = hash_password("another long password")
USER = "ada"  # an administrator user: every writer lets her write while her login holds
MM_PARAMS = {"half_spread": 0.02, "size": 10}
Write = Callable[[Database, str], object]

# Each writer a login's handle reaches, called as a page would with arguments that write on the seeded
# desk (the unchanged login's case proves they do).
WRITES: dict[str, Write] = {
    "post_command": lambda db, a: post_command(db, "pause", {}, actor=a),
    "request_reload": lambda db, a: config.request_reload(db, a, "a test"),
    "create_strategy": lambda db, a: config.create_strategy(db, name="fresh", kind="market_making",
                                                            params=MM_PARAMS, markets=[BTC], enabled=False, actor=a),
    "update_strategy": lambda db, a: config.update_strategy(db, "mm-btc", 1, {"enabled": False}, a,
                                                            "strategy.disable"),
    "save_strategy": lambda db, a: config.save_strategy(db, name="mm-btc", version=1, markets=[BTC], actor=a,
                                                        params={**MM_PARAMS, "size": 12}),
    "set_strategy_enabled": lambda db, a: config.set_strategy_enabled(db, name="mm-btc", version=1, enabled=False,
                                                                      actor=a),
    "save_risk_limits": lambda db, a: config.save_risk_limits(db, {"max_open_orders": Change("50", 1)}, actor=a),
    "save_risk_limit": lambda db, a: config.save_risk_limit(db, name="max_open_orders", value="50", version=1,
                                                            actor=a),
    "save_strategy_limits": lambda db, a: config.save_strategy_limits(
        db, "mm-btc", {"max_daily_loss": Change("50", None)}, actor=a),
    "save_settings": lambda db, a: config.save_settings(db, {"tick_interval_ms": (1000, 1)}, actor=a),
    "save_setting": lambda db, a: config.save_setting(db, key="tick_interval_ms", value=1000, version=1, actor=a),
    "set_fair_value": lambda db, a: config.set_fair_value(db, condition_id=BTC, fair_value=500_000, actor=a),
    "clear_fair_value": lambda db, a: config.clear_fair_value(db, condition_id=ELECTION, actor=a),
    "ack_alert": lambda db, a: config.ack_alert(db, 1, actor=a),
    "add_user": lambda db, a: dashboard_users.add_user(db, name="eve", password=PASSWORD, role="viewer", venue=None,
                                                       actor=a),
    "change_user": lambda db, a: dashboard_users.change_user(db, name="dave", version=1, role="operator", venue=None,
                                                             password=None, actor=a),
    "remove_user": lambda db, a: dashboard_users.remove_user(db, name="dave", version=1, actor=a),
    "set_strategy_paused": lambda db, a: strategy_lifecycle.set_strategy_paused(db, name="mm-btc", version=1,
                                                                                paused=True, actor=a),
    "set_strategy_live": lambda db, a: strategy_lifecycle.set_strategy_live(db, name="mm-btc", version=1, live=False,
                                                                            typed="", actor=a),
    "delete_strategy": lambda db, a: strategy_lifecycle.delete_strategy(db, name="idle", version=1, actor=a),
    "add_pair": lambda db, a: venue_pairs.add_pair(db, condition_id=BTC, kalshi_ticker="KXBTC-26", inverted=False,
                                                   polymarket_question="q", kalshi_title="t", warnings=[], actor=a),
    "remove_pair": lambda db, a: venue_pairs.remove_pair(db, 1, actor=a),
    "set_kalshi_facts": lambda db, a: venue_pairs.set_kalshi_facts(
        db, "KXRAIN-26", venue_pairs.KalshiFacts("[[0, 1000000, 10000]]", "quadratic", 70_000, "open")),
    "start_session": lambda db, a: recording_sessions.start_session(db, name="new", actor=a),
    "stop_session": lambda db, a: recording_sessions.stop_session(db, name="rec", actor=a),
    "rename_session": lambda db, a: recording_sessions.rename_session(db, name="rec", new_name="rec2", actor=a),
    "annotate_session": lambda db, a: recording_sessions.annotate_session(db, name="rec", notes="noted", actor=a),
    "delete_session": lambda db, a: recording_sessions.delete_session(db, name="old", actor=a),
    "request_backtest": lambda db, a: launch_requests.request_backtest(
        db, BacktestSpec("market_making", MM_PARAMS, 0, 1), "a run", actor=a),
    "backtest_not_started": lambda db, a: launch_requests.backtest_not_started(db, 1, "no process"),
    "request_sweep": lambda db, a: launch_requests.request_sweep(
        db, SweepSpec("s", "market_making", {}, 0, 1), 1, actor=a),
    "save_template": lambda db, a: strategy_templates.save_template(db, name="new", kind="market_making",
                                                                    params=MM_PARAMS, actor=a),
    "save_strategy_as_template": lambda db, a: strategy_templates.save_strategy_as_template(
        db, strategy="mm-btc", name="new", actor=a),
    "rename_template": lambda db, a: strategy_templates.rename_template(db, name="tpl", new_name="tpl2", version=1,
                                                                        actor=a),
    "delete_template": lambda db, a: strategy_templates.delete_template(db, name="tpl", version=1, actor=a),
    "create_from_template": lambda db, a: strategy_templates.create_from_template(
        db, template="tpl", name="from-tpl", markets=[BTC], enabled=False, actor=a),
    "reject": lambda db, a: pair_suggestions.reject(db, 1, actor=a),
    "request_pmxt_import": lambda db, a: launch_requests.request_pmxt_import(db, path="/archive.parquet", markets=[],
                                                                             name=None, actor=a),
}
# Writes made through the dashboard process's own handle, never a login's: what logging in and out is
# made of (before a login exists, or to end one) and the audit of a refusal (written after it).
NOT_A_LOGINS_WRITE = {
    "record_refusal": "audits a refusal, through the process's handle, once the login's write was refused",
    "audit_login": "a login being made: there is no login's handle before it",
    "record_login_failures": "failed logins: nobody is logged in",
    "record_password_set": "the first run's password: nobody is logged in",
    "revoke": "a logout: ends the login, whatever became of it",
    "DatabaseBudget": "the password guesses, taken before a login exists",
    # A refresh of the suggested pairs runs in a process of its own (`engine pairs suggest --refresh`), with its
    # own handle: it writes what it found, which links nothing (a pair is linked only through `add_pair`).
    "start_run": "the suggestions refresh's own process",
    "progress": "the suggestions refresh's own process",
    "finish_run": "the suggestions refresh's own process",
    "fail_run": "the suggestions refresh's own process",
    "keep_listing": "the suggestions refresh's own process",
    "store_found": "the suggestions refresh's own process",
}


def _every_writer() -> set[str]:
    return {name for module in NAMED_WRITERS for name in _writers(module) if not name.startswith("_")}


def test_every_writer_is_placed() -> None:
    assert sorted(_every_writer() - WRITES.keys() - NOT_A_LOGINS_WRITE.keys()) == [], \
        "a new writer: add how a page calls it to WRITES (or say in NOT_A_LOGINS_WRITE why no login writes with it)"
    assert sorted((WRITES.keys() | NOT_A_LOGINS_WRITE.keys()) - _every_writer()) == []  # gone: leave the lists


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded desk with an administrator user, a viewer to manage, a strategy to delete, a pair,
    a recording session and a stopped one, and a backtest run asked for."""
    path = tmp_path_factory.mktemp("login-writes") / "desk.db"
    migrate(path)
    now = seed(path)
    db = Database(path)
    try:
        for name, role in ((USER, "admin"), ("dave", "viewer")):
            dashboard_users.add_user(db, name=name, password=PASSWORD, role=role, venue=None, actor="test")
        recording_sessions.start_session(db, name="old", actor="test", now=now - 60_000)
        recording_sessions.stop_session(db, name="old", actor="test", now=now - 30_000)
        recording_sessions.start_session(db, name="rec", actor="test", now=now)
        launch_requests.request_backtest(db, BacktestSpec("market_making", MM_PARAMS, 0, 1), "asked", actor="test")
        strategy_templates.save_template(db, name="tpl", kind="market_making", params=MM_PARAMS, actor="test")
    finally:
        db.dispose()
    conn = raw_connection(path)
    try:
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, status, version, created_at,
                            updated_at, updated_by, live) VALUES ('idle', 'market_making', '{}', '[]', 0, 'ok', 1,
                            0, 0, 'seed', 0)""")
        conn.execute("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                            kalshi_title, warnings, created_at, created_by)
                        VALUES (?, 'KXRAIN-26', 0, 'q', 't', '[]', 0, 'seed')""", (ELECTION,))
        conn.execute("""INSERT INTO pair_suggestions (id, condition_id, kalshi_ticker, watched, polymarket_question,
                            kalshi_title, score, found_at, updated_at)
                        VALUES (1, ?, 'KXFED-26', 'polymarket', 'q', 't', 80, 0, 0)""", (BTC,))
        conn.commit()
    finally:
        conn.close()
    return path


@pytest.fixture
def fresh(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Database]]:
    """Copies of the seeded desk, each a Database of its own."""
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path / "none.env"))
    monkeypatch.setenv("DASHBOARD_PASSWORD_HASH", ADMIN_HASH)
    opened: list[Database] = []

    def make() -> Database:
        path = tmp_path / f"desk{len(opened)}.db"
        shutil.copy(template, path)
        opened.append(Database(path))
        return opened[-1]

    yield make
    for database in opened:
        database.dispose()


@pytest.fixture
def desk(fresh: Callable[[], Database]) -> Database:
    return fresh()


def _login(db: Database, name: str = USER) -> Login:
    with db.read() as conn:
        found = login_in(conn, name, load_settings())
    assert found is not None
    return found


def _state(db: Database) -> str:
    conn = raw_connection(db.path)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def _removed(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    dashboard_users.remove_user(db, name=USER, version=1, actor="test")


def _made(role: str) -> Callable[[Database, pytest.MonkeyPatch], None]:
    def change(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        dashboard_users.change_user(db, name=USER, version=1, role=role, venue=None, password=None, actor="test")

    return change


def _new_password(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """As `change_user` with a new password leaves the row (its scrypt hash made once, not per case)."""
    with db.write() as conn:
        conn.exec_driver_sql("UPDATE dashboard_users SET password_hash = ?, version = version + 1 WHERE name = ?",
                             (OTHER_HASH, USER))


def _new_admin_password(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_PASSWORD_HASH", ADMIN_HASH.replace("$", "$0", 1))  # `set-password` wrote .env


CHANGES: dict[str, tuple[Callable[[Database, pytest.MonkeyPatch], None], str]] = {
    "removed": (_removed, "no longer a user of this desk"),
    "made an operator": (_made("operator"), "is an operator now, no longer an administrator"),
    "made a viewer": (_made("viewer"), "is a viewer now, no longer an administrator"),
    "given a new password": (_new_password, "password of ada was changed"),
    "the administrator's password changed": (_new_admin_password, "password of ada was changed"),
}


@pytest.mark.parametrize("writer", sorted(WRITES))
def test_a_login_changed_since_its_page_was_drawn_writes_nothing(fresh: Callable[[], Database], writer: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write = WRITES[writer]
    for what, (change, words) in CHANGES.items():
        with monkeypatch.context() as undo:
            desk = fresh()
            access = _login(desk).access  # the page drawn, then the login changed
            change(desk, undo)
            before = _state(desk)
            with pytest.raises(AccessRefused) as refused:
                write(desk.acting_as(access), access.actor)
            assert words in str(refused.value) and "nothing was changed" in str(refused.value), (what, refused.value)
            assert _state(desk) == before, f"{writer} wrote for a login {what}"
    desk = fresh()
    access = _login(desk).access
    before = _state(desk)
    write(desk.acting_as(access), access.actor)  # the login as its page was drawn: the same call writes
    assert _state(desk) != before, f"{writer}'s call in WRITES writes nothing even for a login that holds"


def test_a_removal_between_the_writers_check_and_its_write_still_stops_it(desk: Database) -> None:
    """The writer checks the login before any work (`require`) and again inside its write transaction:
    removed in between, nothing is written."""
    handle = desk.acting_as(_login(desk).access)
    checked = handle.require

    def then_removed(*args: object, **kwargs: object) -> None:
        checked(*args, **kwargs)  # type: ignore[arg-type]  # require's own arguments, passed on
        dashboard_users.remove_user(desk, name=USER, version=1, actor="another administrator")

    handle.require = then_removed  # type: ignore[method-assign]  # the removal lands inside the write
    before = _state(desk)
    with pytest.raises(AccessRefused, match="no longer a user of this desk"):
        config.set_fair_value(handle, condition_id=BTC, fair_value=500_000, actor="dashboard:ada")
    after_removal = _state(desk)
    assert after_removal != before  # the removal itself was written, and nothing else:
    with desk.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM signals WHERE condition_id = ?", (BTC,)).scalar() == 0
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM audit_log WHERE actor = 'dashboard:ada'").scalar() == 0


def test_an_operator_demoted_to_viewer_is_refused_even_what_an_operator_may(desk: Database) -> None:
    """A page drawn for an operator writes nothing once its login is a viewer, a kill included, and the
    refusal says what the login is now."""
    dashboard_users.add_user(desk, name="olive", password=PASSWORD, role="operator", venue=None, actor="test")
    handle = desk.acting_as(_login(desk, "olive").access)
    post_command(handle, "pause", {}, actor="dashboard:olive")
    dashboard_users.change_user(desk, name="olive", version=1, role="viewer", venue=None, password=None, actor="t")
    for kind in ("kill", "pause", "start"):
        with pytest.raises(AccessRefused, match="olive is a viewer now, no longer an operator"):
            post_command(handle, kind, {"reason": "x"} if kind == "kill" else {}, actor="dashboard:olive")
    with desk.read() as conn:
        assert conn.exec_driver_sql("SELECT kind FROM commands").scalars().all() == ["pause"]
