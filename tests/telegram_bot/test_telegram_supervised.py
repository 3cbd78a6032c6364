"""The bot under the project's real supervisord.conf: without TELEGRAM_BOT_TOKEN it exits at once
and is left stopped (not restarted in a loop); with one it runs, answers, and dies with
supervisord like every other program."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.helpers import isolated_env, wait_until
from tests.process.test_supervised import _gone
from tests.supervisor_harness import Supervisor, relocated_conf
from tests.telegram_api import bot_api
from tests.telegram_bot.test_telegram_bot import CHAT, TOKEN, _telegram_env

pytestmark = pytest.mark.slow


def test_without_a_token_the_bot_program_exits_and_stays_stopped(tmp_path: Path) -> None:
    sup = Supervisor(relocated_conf(tmp_path, {"telegram"}), isolated_env(tmp_path))
    try:
        info = wait_until(lambda: (i := sup.info("telegram")) and i["statename"] == "EXITED" and i, 30,
                          what="the bot program to exit")
        assert info["exitstatus"] == 0
        log = (tmp_path / "var" / "log" / "telegram.log").read_text()
        assert "TELEGRAM_BOT_TOKEN is not set" in log
    finally:
        sup.shutdown()


def test_with_a_token_it_answers_and_dies_with_supervisord(tmp_path: Path) -> None:
    with bot_api(TOKEN) as api:
        env = _telegram_env(isolated_env(tmp_path), api)
        sup = Supervisor(relocated_conf(tmp_path, {"telegram"}), env)
        pid = None
        try:
            pid = sup.wait_running("telegram", 60)
            # It drops what was sent while it was away (drop_pending_updates): talk once it polls.
            wait_until(lambda: "getUpdates" in api.calls, 60, what="the bot polling")
            api.send(CHAT, "/help")
            api.wait_for(CHAT, lambda m: "/kill [reason]" in m.current, 60, "the help")
            os.kill(sup.proc.pid, signal.SIGKILL)
            sup.proc.wait(10)
            wait_until(lambda: _gone(pid), 30, interval=0.2, what="the bot gone with supervisord")
        finally:
            if pid is not None and not _gone(pid):
                os.kill(pid, signal.SIGKILL)
            sup.shutdown()
        assert TOKEN not in (tmp_path / "var" / "log" / "telegram.log").read_text()
