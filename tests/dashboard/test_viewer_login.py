"""A read-only dashboard login (issue 38): the viewer's password opens every page, and nothing a
viewer clicks changes the desk (no control that writes is offered, and its pages read through a
read-only handle besides); its login is audited as the viewer's, its session survives a reload as a viewer's,
and the desk's own password still logs in, now as the administrator (issue 76: roles).
`set-password --viewer` writes its hash and refuses the operator's password."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.passwords import hash_password, verify_password
from storage.sqlite.db import Database
from tests.dashboard.conftest import PASSWORD
from tests.helpers import ROOT, isolated_env

VIEWER_PASSWORD = "just looking around"
MM = "strategy_mm-btc_v1"


@pytest.fixture
def viewer_env(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DASHBOARD_VIEWER_PASSWORD_HASH", hash_password(VIEWER_PASSWORD))
    return dash_env


def _login(password: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20).run()
    at.text_input(key="password").input(password)
    at.button[0].click().run()
    return at


def _rows(path: Path, sql: str) -> list[tuple]:
    db = Database(path)
    try:
        with db.read() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        db.dispose()


def test_a_viewer_sees_every_page_and_changes_nothing(viewer_env: Path, seeded: int) -> None:
    at = _login(VIEWER_PASSWORD)
    assert at.title[0].value == "Overview" and at.session_state["login_role"] == "viewer"
    pages = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if p.stem != "__init__")
    assert len(pages) == 8
    for name in pages:
        shown = at.switch_page(f"pages/{name}.py").run()
        assert not shown.exception, name
        assert not [e.value for e in shown.error], name
    strategies = at.switch_page("pages/strategies.py").run()  # the strategy's form is not offered (issue 76)
    assert not [b for b in strategies.button if b.key == f"{MM}_save"]
    assert any("not a viewer's" in c.value for c in strategies.caption)
    assert _rows(viewer_env, "SELECT version FROM strategies WHERE name = 'mm-btc'") == [(1,)]
    assert _rows(viewer_env, "SELECT COUNT(*) FROM commands") == [(0,)]
    assert [actor for actor, in _rows(viewer_env, "SELECT actor FROM audit_log WHERE action = 'dashboard.login'")] \
        == ["dashboard-viewer"]


def test_the_desks_password_still_steers_as_the_administrator(viewer_env: Path, seeded: int) -> None:
    at = _login(PASSWORD)  # the name left empty, as before roles: the desk's password is the administrator's
    assert at.session_state["login_role"] == "admin"
    strategies = at.switch_page("pages/strategies.py").run()
    strategies.text_input(key=f"{MM}_p_size").input("12")
    strategies.button(key=f"{MM}_save").click().run()
    assert not strategies.error
    assert _rows(viewer_env, "SELECT version FROM strategies WHERE name = 'mm-btc'") == [(2,)]


def test_a_viewers_session_is_restored_as_a_viewers(viewer_env: Path) -> None:
    token = _login(VIEWER_PASSWORD).query_params["s"]
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20)
    again.query_params["s"] = token[0] if isinstance(token, list) else token
    again.run()
    assert again.title[0].value == "Overview" and again.session_state["login_role"] == "viewer"


def test_a_wrong_password_is_neither(viewer_env: Path) -> None:
    at = _login("neither of the two")
    assert "Wrong password." in [e.value for e in at.error]


def test_set_password_viewer_writes_its_hash_and_refuses_the_operators(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env = {**isolated_env(tmp_path), "TRADER_ENV_FILE": str(env_file)}
    env.pop("DASHBOARD_PASSWORD_HASH", None)
    env.pop("DASHBOARD_VIEWER_PASSWORD_HASH", None)

    def run(*args: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine", "set-password", *args], input=password + "\n",
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)

    first = run("--viewer", password=VIEWER_PASSWORD)
    assert first.returncode != 0 and "set the operator's password first" in first.stderr
    assert run(password=PASSWORD).returncode == 0
    same = run("--viewer", password=PASSWORD)
    assert same.returncode != 0 and "the operator and the viewer need different passwords" in same.stderr
    assert "DASHBOARD_VIEWER_PASSWORD_HASH" not in env_file.read_text()
    done = run("--viewer", password=VIEWER_PASSWORD)
    assert done.returncode == 0, done.stderr
    stored = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert verify_password(VIEWER_PASSWORD, stored["DASHBOARD_VIEWER_PASSWORD_HASH"])
    assert verify_password(PASSWORD, stored["DASHBOARD_PASSWORD_HASH"])
    assert VIEWER_PASSWORD not in json.dumps(stored)
