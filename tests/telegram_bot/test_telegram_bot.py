"""The Telegram bot as a trader meets it: a real `python -m engine telegram` process polling a local
stand-in of the Bot API (tests/telegram_api.py) and a real engine process on the same SQLite file.

An allowed chat gets `/status` (what `engine status` prints); a stranger gets nothing and raises
an audited alert; `/kill` with its confirmation latches a live engine and leaves the venue empty,
and the KILLED alert comes back through the bot; a refused command shows the engine's reason; a
confirmation used twice, cancelled or expired does nothing; a chat over its rate limit is told
once; the token never appears in the database, the logs or any process's command line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import ROOT, EngineProcess, isolated_env, live_desk, run_cli, wait_until
from tests.telegram_api import BotApi, Sent, bot_api

pytestmark = pytest.mark.slow
TOKEN = "987654321:AAH-s3cretTokenForTheDeskBot_x9"
CHAT = 4242
STRANGER = 6666
VIEWER_CHAT = 777  # allowed, read-only (issue 76: a chat's role)


class BotProcess:
    def __init__(self, tmp: Path, env: dict[str, str]):
        self.log_path = tmp / "bot.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, api: BotApi) -> BotProcess:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "engine", "telegram"], cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self._alive() and "getUpdates" in api.calls, 30, what="the bot polling")
        return self

    def _alive(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.log()}")
        return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, api: BotApi | None = None) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            if api is not None:
                api.end_polls()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _telegram_env(env: dict[str, str], api: BotApi, **extra: str) -> dict[str, str]:
    return {**env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_ALLOWED_CHATS": f"{CHAT}, {VIEWER_CHAT}:viewer",
            "TELEGRAM_API_URL": api.base_url, **extra}


@pytest.fixture
def api() -> Iterator[BotApi]:
    with bot_api(TOKEN) as handle:
        yield handle


@pytest.fixture
def bot_and_engine(tmp_path: Path, api: BotApi) -> Iterator[tuple[BotProcess, EngineProcess]]:
    env = _telegram_env(isolated_env(tmp_path), api, TELEGRAM_CONFIRM_SECONDS="2")
    engine = EngineProcess(tmp_path, env).start()
    bot = BotProcess(tmp_path, env)
    try:
        yield bot.start(api), engine
    finally:
        bot.stop(api)
        engine.cleanup()
    assert api.refused == []  # the bot never sent anything Telegram would refuse


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _reply(api: BotApi, text: str, after: int, what: str) -> Sent:
    return api.wait_for(CHAT, lambda m: m.message_id > after and text in m.current, what=what)


def _last_id(api: BotApi) -> int:
    return max((m.message_id for m in api.sent), default=0)


def test_a_flood_of_strangers_is_one_burst_of_alerts_and_audit_rows_with_a_count(
        tmp_path: Path, api: BotApi, bot_and_engine: tuple[BotProcess, EngineProcess]) -> None:
    """Each stranger passes the per-chat alert window once, so 400 strangers at once used to write
    400 alerts and 400 audit rows: the alerts' burst limit folds them into one count, and the bot
    audits only the alerts it raised."""
    from storage.desk.audit import BURST

    _, engine = bot_and_engine
    strangers = 400
    for n in range(strangers):
        api.send(100_000 + n, "/kill", username=f"bot{n}")
    api.send(CHAT, "/help")  # handled in order: once answered, every stranger's message was
    _reply(api, "/kill [reason]", 0, "the help")
    [(rows, folded)] = _rows(engine.db_path, "SELECT COUNT(*), COALESCE(SUM(repeats), 0) FROM alerts "
                                             "WHERE code = 'TELEGRAM_STRANGER'")
    assert rows == BURST and rows + folded == strangers  # one alert per stranger counted, a few rows written
    assert _rows(engine.db_path, "SELECT COUNT(*) FROM audit_log WHERE action = 'telegram.refused'") == [(BURST,)]
    printed = run_cli(["status", "--alerts", "3"], engine.env).stdout
    assert f"(and {strangers - BURST} more like it" in printed


def test_status_for_an_allowed_chat_nothing_for_a_stranger_and_never_the_token(
        tmp_path: Path, api: BotApi, bot_and_engine: tuple[BotProcess, EngineProcess]) -> None:
    bot, engine = bot_and_engine
    api.send(CHAT, "/status")
    status = api.wait_for(CHAT, lambda m: m.current.startswith("engine "), what="the status")
    printed = run_cli(["status", "--alerts", "3"], engine.env).stdout.splitlines()
    ages = ("heartbeat", " ago")  # the only figures that move between the two reads
    assert [ln for ln in status.current.splitlines() if not any(a in ln for a in ages)] == \
           [ln for ln in printed if not any(a in ln for a in ages)]
    assert "kill latch off" in status.current

    api.send(STRANGER, "/kill now", username="mallory")
    api.send(STRANGER, "/status", username="mallory")
    alert = wait_until(lambda: _rows(engine.db_path, "SELECT level, message FROM alerts WHERE code = "
                                                     "'TELEGRAM_STRANGER'"), 20, what="the stranger alert")
    assert alert[0][0] == "warning" and f"chat {STRANGER}" in alert[0][1] and "@mallory" in alert[0][1]
    assert _rows(engine.db_path, "SELECT actor, action FROM audit_log WHERE action = 'telegram.refused'") == [
        (f"telegram:{STRANGER}", "telegram.refused")]
    api.send(CHAT, "/help")  # the bot handles updates in order: once this is answered, both of the stranger's were
    _reply(api, "/kill [reason]", 0, "the help")
    assert api.messages(STRANGER) == []
    assert _rows(engine.db_path, "SELECT COUNT(*) FROM commands WHERE actor LIKE 'telegram:%'") == [(0,)]

    db_bytes = b"".join(p.read_bytes() for p in engine.db_path.parent.glob(engine.db_path.name + "*"))
    secret = TOKEN.encode()
    assert secret not in db_bytes and TOKEN.split(":")[1].encode() not in db_bytes
    assert TOKEN not in bot.log() and TOKEN not in engine.log() and "getUpdates" in api.calls
    command_lines = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert "engine telegram" in command_lines and TOKEN not in command_lines
    assert bot.proc is not None and TOKEN.encode() not in Path(f"/proc/{bot.proc.pid}/cmdline").read_bytes()
    assert all(TOKEN not in m.current for m in api.sent)


def test_a_refused_command_shows_the_engines_reason(api: BotApi,
                                                    bot_and_engine: tuple[BotProcess, EngineProcess]) -> None:
    _, engine = bot_and_engine
    assert engine.status().state in ("IDLE", "STOPPED")
    api.send(CHAT, "/pause")
    reply = _reply(api, "pause:", 0, "the engine's answer")
    (command_id, actor, error), = _rows(engine.db_path, "SELECT id, actor, error FROM commands WHERE kind = 'pause'")
    assert actor == f"telegram:{CHAT}" and "only a RUNNING engine pauses" in error
    assert reply.current == f"pause: refused by the engine (command #{command_id}): {error}"
    api.send(VIEWER_CHAT, "/pause")  # a viewer's chat: refused by its role before anything is posted, audited
    api.wait_for(VIEWER_CHAT, lambda m: m.current.startswith("Refused.") and "read-only" in m.current,
                 what="the viewer's refusal")
    assert _rows(engine.db_path, "SELECT COUNT(*) FROM commands WHERE kind = 'pause'") == [(1,)]
    assert _rows(engine.db_path, "SELECT actor FROM audit_log WHERE action = 'access.refused'") \
        == [(f"telegram:{VIEWER_CHAT}",)]


def test_a_confirmation_works_once_in_time_and_cancel_does_nothing(
        api: BotApi, bot_and_engine: tuple[BotProcess, EngineProcess]) -> None:
    _, engine = bot_and_engine
    api.send(CHAT, "/stop")
    offer = _reply(api, "Stop the engine?", 0, "the stop confirmation")
    assert [label for label, _ in offer.buttons] == ["Yes, stop", "Cancel"]
    expired = api.wait_for(CHAT, lambda m: m.message_id == offer.message_id and m.current.startswith("Expired"),
                           what="the offer to expire (TELEGRAM_CONFIRM_SECONDS=2)")
    assert expired.buttons == []
    answered = len(api.answers)
    api.press(offer, "Yes")  # a stale press (an old client, or a replay)
    wait_until(lambda: len(api.answers) > answered, 20, what="the bot to answer the press")
    assert "already used, cancelled or has expired: nothing done" in api.answers[-1]["text"]

    api.send(CHAT, "/rearm")
    cancel = _reply(api, "Re-arm after the kill?", offer.message_id, "the re-arm confirmation")
    api.press(cancel, "Cancel")
    api.wait_for(CHAT, lambda m: m.message_id == cancel.message_id and m.current.startswith("Cancelled"),
                 what="the cancel")
    api.press(cancel, "Yes")  # the other button of a cancelled offer
    wait_until(lambda: "nothing done" in (api.answers[-1]["text"] or ""), 20, what="the refusal of a used nonce")
    assert _rows(engine.db_path, "SELECT COUNT(*) FROM commands WHERE kind IN ('stop', 'rearm')") == [(0,)]


def test_commands_over_the_rate_limit_are_refused_and_said_so_once(tmp_path: Path, api: BotApi) -> None:
    env = _telegram_env(isolated_env(tmp_path), api, TELEGRAM_COMMANDS_PER_MINUTE="3")
    bot = BotProcess(tmp_path, env)
    try:
        bot.start(api)
        for _ in range(6):
            api.send(CHAT, "/help")
        api.send(VIEWER_CHAT, "/help")  # another allowed chat has its own allowance
        api.wait_for(VIEWER_CHAT, lambda m: "/kill [reason]" in m.current, what="the other chat's help")
        wait_until(lambda: len(api.messages(CHAT)) >= 4, 20, what="the first chat's answers")
        assert [("Slow down" in m.current, "/kill [reason]" in m.current) for m in api.messages(CHAT)] == [
            (False, True)] * 3 + [(True, False)]
    finally:
        bot.stop(api)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=29, agents=False) as handle:
        yield handle


def test_kill_with_confirmation_latches_a_live_engine_and_empties_the_venue(
        tmp_path: Path, api: BotApi, sim: SimHandle) -> None:
    engine, funder = live_desk(tmp_path, sim, mm=({"size": 20, "half_spread": 0.03, "max_spread": 0.9},
                                                  {"filter": {"max_markets": 2}}))
    engine.env.update(_telegram_env(engine.env, api))
    bot = BotProcess(tmp_path, engine.env)
    try:
        engine.start()
        wait_until(lambda: sim.open_order_count(funder) > 0, 30, what="orders resting at the venue")
        bot.start(api)
        api.send(CHAT, "/kill breaking news")
        offer = _reply(api, "KILL the engine?", 0, "the kill confirmation")
        assert "Reason: breaking news" in offer.current
        assert _rows(engine.db_path, "SELECT COUNT(*) FROM commands WHERE kind = 'kill'") == [(0,)]  # not yet
        api.press(offer, "Yes")
        done = api.wait_for(CHAT, lambda m: m.message_id == offer.message_id and m.current.startswith("kill: done"),
                            what="the engine's answer to the kill")
        assert "state KILLED" in done.current
        status = engine.status()
        assert status.state == "KILLED" and status.kill_latched and status.kill_reason == "breaking news"
        assert sim.open_order_count(funder) == 0
        assert _rows(engine.db_path, "SELECT actor, status FROM commands WHERE kind = 'kill'") == [
            (f"telegram:{CHAT}", "done")]
        # The KILLED alert comes back through the bot (the telegram channel's queue).
        api.wait_for(CHAT, lambda m: m.current.startswith("CRITICAL KILLED") and "breaking news" in m.current,
                     what="the KILLED alert delivered by the bot")
        answered = len(api.answers)
        api.press(offer, "Yes")  # the same confirmation again
        wait_until(lambda: len(api.answers) > answered, 20, what="the bot to answer the replay")
        assert "nothing done" in api.answers[-1]["text"]
        assert _rows(engine.db_path, "SELECT COUNT(*) FROM commands WHERE kind = 'kill'") == [(1,)]
        assert TOKEN not in bot.log() and TOKEN not in engine.log()
        assert api.refused == []
    finally:
        bot.stop(api)
        engine.cleanup()


def test_reads_acknowledgements_and_strategy_switches(api: BotApi,
                                                      bot_and_engine: tuple[BotProcess, EngineProcess]) -> None:
    _, engine = bot_and_engine
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                            updated_by) VALUES ('mm btc', 'market_making', '{}', '[]', 1, 0, 0, 't')""")
        conn.execute("""INSERT INTO alerts (created_at, level, source, code, message)
                        VALUES (strftime('%s') * 1000, 'warning', 'test', 'FEED_DOWN',
                                'market feed down <30 s> & more')""")
    for text, expected in (("/orders", "No open orders (paper)."), ("/positions", "No open positions (paper)."),
                           ("/pnl week", "PnL this week (paper): no portfolio snapshot yet."),
                           ("/pnl month", "usage: /pnl [today|week]"),
                           ("/flatten 0xabcdef", "No position in a market matching '0xabcdef'"),
                           ("/strategy nope on", "No strategy named 'nope'. Strategies: mm btc."),
                           ("/frobnicate", "Unknown command /frobnicate")):
        after = _last_id(api)
        api.send(CHAT, text)
        assert _reply(api, "", after, f"the answer to {text}").current.startswith(expected)

    after = _last_id(api)
    api.send(CHAT, "/pause", sent_at=time.time() - 600)  # typed ten minutes ago, while the bot was away
    _reply(api, "Ignored /pause: it was sent 10 min ago", after, "the refusal of a stale command")
    assert _rows(engine.db_path, "SELECT COUNT(*) FROM commands WHERE kind = 'pause'") == [(0,)]

    after = _last_id(api)
    api.send(CHAT, "/strategy mm btc off")
    switched = _reply(api, "strategy mm btc disabled (audited). reload: done", after, "the switch")
    assert _rows(engine.db_path, "SELECT enabled FROM strategies WHERE name = 'mm btc'") == [(0,)]
    assert _rows(engine.db_path, "SELECT actor FROM audit_log WHERE action = 'strategy.disable'") == [
        (f"telegram:{CHAT}",)]
    assert "command #" in switched.current

    api.send(CHAT, "/alerts")
    listed = _reply(api, "FEED_DOWN: market feed down <30 s> & more", switched.message_id, "the alerts")
    alert_id = _rows(engine.db_path, "SELECT id FROM alerts WHERE code = 'FEED_DOWN'")[0][0]
    api.press(listed, f"Acknowledge #{alert_id}")
    _reply(api, f"Alert #{alert_id} acknowledged.", listed.message_id, "the acknowledgement")
    assert _rows(engine.db_path, f"SELECT acked_by FROM alerts WHERE id = {alert_id}") == [(f"telegram:{CHAT}",)]
    api.press(listed, f"Acknowledge #{alert_id}")  # twice: said, not done again
    _reply(api, f"Alert #{alert_id} was already acknowledged.", listed.message_id, "the second press")
