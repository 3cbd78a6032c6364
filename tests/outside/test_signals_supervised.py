"""The signals API under the project's real supervisord.conf: without SIGNALS_API_TOKEN the
`signals` program exits at once and is left stopped; with one it serves on 127.0.0.1 and takes a
post, and its log never holds the token."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, wait_until
from tests.outside.test_signals_api import MARKET, TOKEN, _up, add_market, free_port, good
from tests.supervisor_harness import Supervisor, relocated_conf

pytestmark = pytest.mark.slow


def test_without_a_token_the_signals_program_exits_and_stays_stopped(tmp_path: Path) -> None:
    sup = Supervisor(relocated_conf(tmp_path, {"signals"}), isolated_env(tmp_path))
    try:
        info = wait_until(lambda: (i := sup.info("signals")) and i["statename"] == "EXITED" and i, 30,
                          what="the signals program to exit")
        assert info["exitstatus"] == 0
        assert "SIGNALS_API_TOKEN is not set" in (tmp_path / "var" / "log" / "signals.log").read_text()
    finally:
        sup.shutdown()


def test_with_a_token_it_serves_and_takes_a_post(tmp_path: Path) -> None:
    port = free_port()
    env = isolated_env(tmp_path, SIGNALS_API_TOKEN=TOKEN, SIGNALS_API_PORT=str(port))
    migrate(Path(env["TRADER_DB"]))
    db = Database(Path(env["TRADER_DB"]))
    add_market(db)
    sup = Supervisor(relocated_conf(tmp_path, {"signals"}), env)
    base = f"http://127.0.0.1:{port}"
    try:
        sup.wait_running("signals", 60)
        wait_until(lambda: _up(base), 30, what="the signals API answering")
        answer = httpx.post(f"{base}/v1/signals", json=good(posted_at=now_ms()),
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert answer.status_code == 201 and answer.json()["market"] == MARKET
    finally:
        sup.shutdown()
        db.dispose()
    assert TOKEN not in (tmp_path / "var" / "log" / "signals.log").read_text()
