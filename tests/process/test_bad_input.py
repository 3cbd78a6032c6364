"""Hostile and malformed input against a real engine process trading paper against the
simulator: a kill never fails on its payload, a refused command leaves the engine exactly as
it was, an operator payload cannot grant itself the kill-switch flatten, and no JSON (a
command, a feed message) can crash the process."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, post_raw, wait_until

pytestmark = pytest.mark.slow
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=5, agents=True, agent_interval_s=0.2) as handle:
        yield handle


def _engine(tmp: Path, sim: SimHandle, **settings: object) -> EngineProcess:
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port))
    migrate(Path(env["TRADER_DB"]))
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        now = now_ms()
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                            updated_by) VALUES ('mm', 'market_making', ?, ?, 1, ?, ?, 'test')""",
                     (json.dumps({"size": 20, "half_spread": 0.02, "refresh_threshold": 0, "max_spread": 0.5}),
                      json.dumps({"filter": {"max_markets": 3}}), now, now))
        for key, value in settings.items():
            conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES (?, ?, 1, ?, 't')",
                         (key, json.dumps(value), now))
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING'")
    return EngineProcess(tmp, env)


def _rows(engine: EngineProcess, sql: str) -> list[tuple]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql).fetchall()


def _placed(engine: EngineProcess) -> int:
    return int(_rows(engine, "SELECT COUNT(*) FROM orders")[0][0])


def test_a_refused_stop_changes_nothing_and_a_malformed_kill_still_kills(tmp_path: Path, sim: SimHandle) -> None:
    engine = _engine(tmp_path, sim)
    try:
        engine.start()
        wait_until(lambda: _placed(engine) >= 2, 30, what="the market maker quoting")
        stop = engine.wait_command(post_raw(engine.db_path, "stop", '{"reason": news}'))
        assert stop.status == "failed" and "not valid JSON" in stop.error
        before = _placed(engine)
        wait_until(lambda: _placed(engine) > before, 30, what="orders still placed after the refused stop")
        assert engine.status().state == "RUNNING" and not engine.status().kill_latched

        kill = engine.wait_command(post_raw(engine.db_path, "kill", '{"reason": news}'), timeout=20)
        assert kill.status == "done", kill.error
        status = engine.status()
        assert status.state == "KILLED" and status.kill_latched and "news" in (status.kill_reason or "")
        # A placement on its way when the kill came (the paper venue's latency) is refused on arrival.
        wait_until(lambda: _rows(engine, "SELECT COUNT(*) FROM orders WHERE status_rank < 100")[0][0] == 0, 10,
                   what="no order left open after the kill")
    finally:
        engine.cleanup()


def test_an_operator_payload_cannot_flatten_under_the_latch(tmp_path: Path, sim: SimHandle) -> None:
    engine = _engine(tmp_path, sim)
    try:
        engine.start()
        assert engine.run("kill", {"reason": "test"}, timeout=20).status == "done"
        flatten = engine.wait_command(post_raw(engine.db_path, "flatten", '{"after_kill": true}'))
        assert flatten.status == "failed" and "does not take 'after_kill'" in flatten.error
        plain = engine.run("flatten", {})
        assert plain.status == "failed" and "kill latch" in plain.error
        assert _rows(engine, "SELECT COUNT(*) FROM orders WHERE side = 'SELL' AND reason = 'flatten'")[0][0] == 0
    finally:
        engine.cleanup()


def test_deeply_nested_json_is_refused_and_the_engine_lives(tmp_path: Path, sim: SimHandle) -> None:
    engine = _engine(tmp_path, sim)
    try:
        engine.start()
        refused = engine.wait_command(post_raw(engine.db_path, "reload_config", DEEP), timeout=20)
        assert refused.status == "failed" and "too large" in refused.error
        shallow_but_deep = "[" * 5_000 + "]" * 5_000  # under the size bound, over the depth bound
        refused = engine.wait_command(post_raw(engine.db_path, "start", shallow_but_deep))
        assert refused.status == "failed" and "nested too deeply" in refused.error
        kill = engine.wait_command(post_raw(engine.db_path, "kill", DEEP), timeout=20)
        assert kill.status == "done"  # a kill goes ahead whatever it carries
        assert engine.proc is not None and engine.proc.poll() is None
        assert not engine.status().heartbeat_stale
    finally:
        engine.cleanup()


class HostileFeed:
    """A WebSocket on 127.0.0.1 (any path) whose first message is 100 k nested brackets."""

    def __init__(self) -> None:
        self.port = 0
        self.sent = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(DEEP)
        self.sent.set()
        async for _ in ws:
            pass
        return ws

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._ws)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def __enter__(self) -> HostileFeed:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def test_a_hostile_reference_feed_cannot_crash_the_engine(tmp_path: Path, sim: SimHandle) -> None:
    with HostileFeed() as feed:
        engine = _engine(tmp_path, sim, reference_feed_url=f"ws://127.0.0.1:{feed.port}/")
        try:
            engine.start()
            assert feed.sent.wait(20), "the engine never connected to the reference feed"
            before = _placed(engine)
            wait_until(lambda: _placed(engine) > before, 30, what="trading going on after the hostile message")
            assert engine.proc is not None and engine.proc.poll() is None
        finally:
            engine.cleanup()


def test_a_hostile_market_channel_cannot_crash_the_engine(tmp_path: Path, sim: SimHandle) -> None:
    """100 k nested brackets on the market channel: refused for their depth before the C decoder
    sees them (behind that, a sane recursion limit stands between them and a segfault)."""
    with HostileFeed() as feed:
        engine = _engine(tmp_path, sim)
        engine.env["WS_HOST"] = f"ws://127.0.0.1:{feed.port}/ws/"
        try:
            engine.start()
            assert feed.sent.wait(20), "the engine never connected to the market channel"
            wait_until(lambda: "market frame dropped" in engine.log() and "nested too deeply" in engine.log(), 10,
                       what="the frame refused")
            assert engine.proc is not None and engine.proc.poll() is None
            assert not engine.status().heartbeat_stale
        finally:
            engine.cleanup()
