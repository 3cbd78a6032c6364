"""`python -m simulator --replay SESSION`: a recorded session served as the market, in a real
simulator process, read by a real WebSocket client: the books and trade prints it sends are
the recorded ones."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from engine.backtest.replay import apply, recorded_events
from engine.feeds.books import BookCache
from simulator.config import SimConfig, env_overrides
from simulator.replay import FULL, parse_speed
from storage.research import recording_sessions as rs
from storage.sqlite.db import Database
from tests.simulator.test_cli import ROOT, _env, _read_port

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402

START = 1_700_000_000_000
SESSION = "recorded day"


def recorded_session(path: Path, *, events: int, markets: int = 2) -> tuple[list[str], list[str], int, int]:
    """A synthetic recording with one session (SESSION) over all of it: (condition ids, their
    tokens YES then NO, start, end)."""
    cids, start, end = write_recording(path, markets=markets, events=events, start_ms=START)
    db = Database(path)
    rs.start_session(db, name=SESSION, markets=cids, actor="test", now=start)
    rs.stop_session(db, name=SESSION, actor="test", now=end)
    with db.read() as conn:
        tokens = rs.session_tokens(conn, cids)
    db.dispose()
    return cids, tokens, start, end


def _micro(raw: str) -> int:
    return int(Decimal(raw) * 1_000_000)


class Watcher:
    """A market-channel client folding what it receives into books and prints."""

    def __init__(self, ws: Any, tokens: list[str]) -> None:
        self.ws = ws
        self.ws.send(json.dumps({"type": "market", "assets_ids": tokens}))
        self.books: dict[str, dict[str, dict[int, int]]] = {}
        self.prints: dict[str, list[tuple[int, int, str]]] = {t: [] for t in tokens}

    def drain(self, quiet_s: float) -> int:
        got = 0
        while True:
            try:
                raw = self.ws.recv(timeout=quiet_s)
            except TimeoutError:
                return got
            for message in (lambda m: m if isinstance(m, list) else [m])(json.loads(raw)):
                self._fold(message)
                got += 1

    def _fold(self, m: dict[str, Any]) -> None:
        kind = m.get("event_type")
        if kind == "book":
            self.books[m["asset_id"]] = {"b": {_micro(x["price"]): _micro(x["size"]) for x in m["bids"]},
                                         "a": {_micro(x["price"]): _micro(x["size"]) for x in m["asks"]}}
        elif kind == "price_change":
            for c in m["price_changes"]:
                side = self.books.setdefault(c["asset_id"], {"b": {}, "a": {}})["b" if c["side"] == "BUY" else "a"]
                price, size = _micro(c["price"]), _micro(c["size"])
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        elif kind == "last_trade_price":
            self.prints[m["asset_id"]].append((_micro(m["price"]), _micro(m["size"]), m["side"]))


def _recorded(path: Path, tokens: list[str], start: int, end: int) -> tuple[dict, dict]:
    """Final books (every level) and trade prints per token, as a backtest replays them."""
    books = BookCache()
    prints: dict[str, list[tuple[int | None, int | None, str | None]]] = {t: [] for t in tokens}
    for event in recorded_events(path, tokens, start, end):
        apply(books, event)
        if event[2] == "trade":
            prints[event[1]].append((event[4], event[5], event[3]))
    final = {}
    for token in tokens:
        book = books.book(token, depth=1000)
        assert book is not None
        final[token] = {"b": {lv.price: lv.size for lv in book.bids}, "a": {lv.price: lv.size for lv in book.asks}}
    return final, prints


def _state(port: int) -> dict[str, Any]:
    return httpx.get(f"http://127.0.0.1:{port}/_sim/state", timeout=5).json()


def _replaying(db: Path, speed: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulator", "--port", "0", "--replay", SESSION,
                             "--speed", speed], cwd=ROOT, env=_env(TRADER_DB=str(db)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_done(port: int, watcher: Watcher, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        watcher.drain(0.05)
        replay = _state(port)["replay"]
        if replay["done"]:
            return replay
    raise AssertionError("the replay did not finish")


def test_replayed_books_and_prints_are_the_recorded_ones(tmp_path: Path) -> None:
    db = tmp_path / "trader.db"
    cids, tokens, start, end = recorded_session(db, events=600)
    proc = _replaying(db, "full")
    try:
        port = _read_port(proc)
        markets = httpx.get(f"http://127.0.0.1:{port}/_sim/markets", timeout=5).json()
        assert sorted(m["condition_id"] for m in markets) == sorted(cids)
        assert not _state(port)["replay"]["started"]  # it waits for a subscriber
        with connect(f"ws://127.0.0.1:{port}/ws/market", open_timeout=10) as ws:
            watcher = Watcher(ws, tokens)
            replay = _wait_done(port, watcher)
            watcher.drain(0.5)  # whatever was still on its way
        books, prints = _recorded(db, tokens, start, end)
        assert replay["events"] > 600
        assert sum(len(p) for p in prints.values()) > 20
        for token in tokens:
            assert watcher.books[token] == books[token], token
        yes_tokens = tokens[::2]
        for token in yes_tokens:  # the recording printed on YES; the NO print mirrors it
            assert watcher.prints[token] == prints[token]
            no = tokens[tokens.index(token) + 1]
            assert watcher.prints[no] == [(1_000_000 - p, s, "SELL" if side == "BUY" else "BUY")
                                          for p, s, side in prints[token]]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_speed_paces_the_replay(tmp_path: Path) -> None:
    """At 10x a session lasts a tenth of its recorded span: never less (a lower bound only,
    which load cannot break)."""
    db = tmp_path / "trader.db"
    _, tokens, start, end = recorded_session(db, events=200, markets=1)
    proc = _replaying(db, "10")
    try:
        port = _read_port(proc)
        with connect(f"ws://127.0.0.1:{port}/ws/market", open_timeout=10) as ws:
            begun = time.monotonic()
            replay = _wait_done(port, Watcher(ws, tokens))
        assert replay["speed"] == 10 and replay["events"] > 200
        assert time.monotonic() - begun >= (end - start) / 1000 / 10 * 0.95
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_replay_settings_and_refusals(tmp_path: Path) -> None:
    assert parse_speed("full") == FULL and parse_speed("10") == 10 and parse_speed("10x") == 10
    for bad in ("0", "fast", "5000"):
        with pytest.raises(ValueError, match="speed"):
            parse_speed(bad)
    env = {"SIMULATOR_REPLAY": "recorded day", "SIMULATOR_SPEED": "full", "SIMULATOR_REPLAY_DB": "/x.db"}
    cfg = SimConfig().with_updates(env_overrides(env))
    assert (cfg.replay, cfg.speed, cfg.replay_db) == ("recorded day", FULL, "/x.db")
    db = tmp_path / "trader.db"
    recorded_session(db, events=10, markets=1)
    done = subprocess.run([sys.executable, "-m", "simulator", "--replay", "nope", "--replay-db", str(db)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no recording session named 'nope'" in done.stderr
    assert "recorded day" in done.stderr and "Traceback" not in done.stderr
    missing = subprocess.run([sys.executable, "-m", "simulator", "--replay", "x", "--replay-db",
                              str(tmp_path / "none.db")], cwd=ROOT, env=_env(), capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 2 and "no recording database" in missing.stderr
