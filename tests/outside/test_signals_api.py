"""The signals API as a model meets it: a real `python -m engine signals-api` on 127.0.0.1 and a
real SQLite file. A good post is stored with its provenance and becomes the engine's fair value;
every hostile post (a wrong or missing token, a fair value outside (0, 1), a stale, future or
replayed post, an unknown market, a body too large, a sender that stalls mid-body, a flood) is
refused with its code and changes nothing; the token is never in the log or the database; without
a token the program is off."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from engine.outside import signals_api
from engine.trading.hosting.views import load_fair_signals
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env, run_cli, wait_until

TOKEN = "t0ken-for-tests-" + "x" * 24
MARKET = "0x" + "ab" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_market(db: Database, cid: str = MARKET, question: str = "Will it rain?") -> None:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size,
                                 first_seen_at, updated_at) VALUES (:c, :q, :y, :n, 10000, 5000000, 0, 0)"""),
                     {"c": cid, "q": question, "y": cid[-6:] + "1", "n": cid[-6:] + "2"})


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, Database, Path]]:
    env = isolated_env(tmp_path, SIGNALS_API_TOKEN=TOKEN)
    migrate(Path(env["TRADER_DB"]))
    db = Database(Path(env["TRADER_DB"]))
    add_market(db)
    port = free_port()
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "signals-api", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(base), timeout=30, what="the signals API answering")
        yield base, db, log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        db.dispose()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def good(**over: Any) -> dict[str, Any]:
    body = {"market": MARKET, "source": "mymodel", "fair_value": 0.62, "confidence": 0.8, "posted_at": now_ms(),
            "nonce": uuid.uuid4().hex, "ttl_s": 600, "detail": "ensemble of 3"}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def post(base: str, body: Any, token: str | None = TOKEN, **kw: Any) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{base}/v1/signals", content=content, headers=headers, timeout=10, **kw)


def stored(db: Database) -> tuple[list[tuple[Any, ...]], int]:
    with db.read() as conn:
        signals = [tuple(r) for r in conn.execute(text("""SELECT source, fair_value, confidence, via, updated_by,
                                                              detail FROM signals"""))]
        posts = conn.execute(text("SELECT COUNT(*) FROM signal_posts")).scalar_one()
    return signals, int(posts)


def test_a_post_is_stored_with_its_provenance_and_becomes_the_fair_value(api: tuple[str, Database, Path]) -> None:
    base, db, log = api
    answer = post(base, good())
    assert answer.status_code == 201, answer.text
    assert answer.json()["fair_value"] == 0.62
    assert stored(db) == ([("mymodel", 620_000, 800_000, "http", "api:mymodel", "ensemble of 3")], 1)
    assert load_fair_signals(db, now_ms()) == {MARKET: (620_000, 800_000)}
    newer = post(base, good(fair_value="0.55", confidence=None))
    assert newer.status_code == 201 and newer.json()["replaced"] == 0.62
    assert load_fair_signals(db, now_ms()) == {MARKET: (550_000, None)}
    with db.read() as conn:  # each post kept, with how it came
        posts = conn.execute(text("SELECT fair_value, via, actor FROM signal_posts ORDER BY id")).all()
    assert [tuple(p) for p in posts] == [(620_000, "http", "api:mymodel"), (550_000, "http", "api:mymodel")]
    assert TOKEN not in log.read_text()
    _nowhere_in_the_database(db)


def _hostile() -> list[tuple[Any, str | None, int, str]]:
    """The hostile posts, timed when the test runs (built at collection, a loaded machine's
    minute would make every 'good' one stale)."""
    return [
        (good(), None, 401, "UNAUTHORIZED"),
        (good(), "wrong-" + "y" * 30, 401, "UNAUTHORIZED"),
        (good(fair_value=1), TOKEN, 400, "OUT_OF_RANGE"),
        (good(fair_value=0), TOKEN, 400, "OUT_OF_RANGE"),
        (good(fair_value=-0.2), TOKEN, 400, "OUT_OF_RANGE"),
        (good(fair_value="NaN"), TOKEN, 400, "OUT_OF_RANGE"),
        (good(confidence=1.5), TOKEN, 400, "OUT_OF_RANGE"),
        (good(fair_value="1e999999"), TOKEN, 400, "OUT_OF_RANGE"),  # Decimal takes it; its arithmetic overflows
        (good(confidence="1e999999"), TOKEN, 400, "OUT_OF_RANGE"),
        (good(confidence="1e-9999999999"), TOKEN, 400, "BAD_REQUEST"),  # never silently 0
        (good(fair_value="0." + "1" * 10_000), TOKEN, 400, "BAD_REQUEST"),
        (good(posted_at=now_ms() - 120_000), TOKEN, 400, "STALE"),
        (good(posted_at=now_ms() + 600_000), TOKEN, 400, "FUTURE"),
        (good(ttl_s=-5), TOKEN, 400, "OUT_OF_RANGE"),
        (good(ttl_s=30 * 86_400), TOKEN, 400, "OUT_OF_RANGE"),
        (good(source="operator"), TOKEN, 400, "RESERVED_SOURCE"),
        (good(market="0x" + "cd" * 32), TOKEN, 422, "UNKNOWN_MARKET"),
        (good(extra="x"), TOKEN, 400, "BAD_REQUEST"),
        (b"[1, 2", TOKEN, 400, "BAD_REQUEST"),
        (b"[" * 50 + b"]" * 50, TOKEN, 400, "BAD_REQUEST"),
        (b"{" + b" " * (signals_api.MAX_BODY + 10) + b"}", TOKEN, 413, "TOO_LARGE"),
    ]


def test_hostile_posts_are_refused_with_a_reason_and_change_nothing(api: tuple[str, Database, Path]) -> None:
    base, db, log = api
    for body, token, status, code in _hostile():
        answer = post(base, body, token)
        assert (answer.status_code, answer.json()["refused"]) == (status, code), (code, answer.text)
        assert answer.json()["reason"]
    assert stored(db) == ([], 0)
    assert "Traceback" not in log.read_text()


def test_the_cli_refuses_a_hostile_number_by_name(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    migrate(Path(env["TRADER_DB"]))
    add_market(Database(Path(env["TRADER_DB"])))
    done = run_cli(["signals", "post", "--market", MARKET, "--source", "mymodel", "--fair", "0.6",
                    "--confidence", "1e999999"], env)
    assert done.returncode != 0 and "refused (OUT_OF_RANGE): confidence must be between 0 and 1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_replayed_or_older_post_is_refused(api: tuple[str, Database, Path]) -> None:
    base, db, _ = api
    first = good()
    assert post(base, first).status_code == 201
    again = post(base, first)
    assert (again.status_code, again.json()["refused"]) == (409, "REPLAYED")
    older = post(base, good(posted_at=first["posted_at"] - 1000, fair_value=0.3))
    assert (older.status_code, older.json()["refused"]) == (400, "STALE")
    assert stored(db)[1] == 1 and load_fair_signals(db, now_ms()) == {MARKET: (620_000, 800_000)}


def test_a_wrong_token_is_alerted_once_for_a_burst(api: tuple[str, Database, Path]) -> None:
    base, db, log = api
    for _ in range(5):
        assert post(base, good(), "bad-" + "z" * 40).status_code == 401
    with db.read() as conn:
        alerts = conn.execute(text("SELECT code, message FROM alerts")).all()
    assert [a.code for a in alerts] == ["SIGNALS_API_UNAUTHORIZED"]
    assert "z" * 40 not in log.read_text() and "z" * 40 not in alerts[0].message


def test_a_flood_is_held_back_then_let_through_once_the_bucket_refills(api: tuple[str, Database, Path]) -> None:
    base, db, _ = api
    codes = asyncio.run(_flood(base, 4 * signals_api.BURST))
    assert codes.count(429) >= signals_api.BURST and set(codes) <= {401, 429}
    wait_until(lambda: post(base, good()).status_code == 201, timeout=10, what="the bucket refilled")
    assert stored(db)[1] == 1


def test_a_wrong_token_flood_never_spends_the_models_budget(api: tuple[str, Database, Path]) -> None:
    """Another client floods wrong-token posts while the model posts with the right token: the flood
    is throttled (429) and alerted, every one of the model's posts is taken."""
    base, db, _ = api
    flood_codes, model_codes = asyncio.run(_flood_beside_the_model(base))
    assert model_codes == [201] * 5
    assert flood_codes.count(429) >= signals_api.FAILED_BURST and set(flood_codes) <= {401, 429}
    assert stored(db)[1] == 5
    with db.read() as conn:
        alerts = conn.execute(text("SELECT code FROM alerts")).scalars().all()
    assert alerts == ["SIGNALS_API_UNAUTHORIZED"]


async def _flood_beside_the_model(base: str) -> tuple[list[int], list[int]]:
    """A wrong-token flood from one client, and the model's five posts from another, each sent once
    the flood is being throttled and while it still runs."""
    flood_codes: list[int] = []
    throttled, done = asyncio.Event(), asyncio.Event()

    async def flood(client: httpx.AsyncClient) -> None:
        async def one() -> None:
            while not done.is_set():
                answer = await client.post(f"{base}/v1/signals", content=b"{}",
                                           headers={"Authorization": "Bearer bad-" + "q" * 40})
                flood_codes.append(answer.status_code)
                if answer.status_code == 429:
                    throttled.set()
        await asyncio.gather(*(one() for _ in range(16)))

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=16)) as stranger, \
            httpx.AsyncClient(timeout=30) as model:
        flooding = asyncio.create_task(flood(stranger))
        try:
            await asyncio.wait_for(throttled.wait(), 30)
            model_codes = []
            for _ in range(5):
                answer = await model.post(f"{base}/v1/signals", content=json.dumps(good()).encode(),
                                          headers={"Authorization": f"Bearer {TOKEN}"})
                model_codes.append(answer.status_code)
                assert not flooding.done()
                await asyncio.sleep(0.05)
            before = len(flood_codes)
            await asyncio.sleep(0.2)
            assert len(flood_codes) > before  # the flood still ran after the model's last post
        finally:
            done.set()
            await flooding
    return flood_codes, model_codes


# On a server of its own: right after a flood the bucket may hold less than one post, and the
# stalled post would be refused as a flood's before its body is waited for.
def test_a_stalled_sender_is_cut_off(api: tuple[str, Database, Path]) -> None:
    base, db, _ = api
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:  # headers, then half a body, then nothing
        conn.sendall(f"POST /v1/signals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"market\": ".encode())
        started = time.monotonic()
        answer = conn.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 408") and "STALLED" in answer
    assert time.monotonic() - started < signals_api.BODY_TIMEOUT_S + 10
    assert stored(db)[1] == 0


def test_without_a_token_the_program_is_off(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    done = subprocess.run([sys.executable, "-m", "engine", "signals-api", "--port", str(free_port())], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "SIGNALS_API_TOKEN is not set" in done.stdout


async def _flood(base: str, n: int) -> list[int]:
    """`n` posts at once with a wrong token: the bucket refuses what comes past its burst."""
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=20)) as client:
        answers = await asyncio.gather(*(client.post(f"{base}/v1/signals", content=b"{}",
                                                     headers={"Authorization": "Bearer bad-" + "q" * 40})
                                         for _ in range(n)))
    return [a.status_code for a in answers]


def _nowhere_in_the_database(db: Database) -> None:
    with db.read() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608  (names from sqlite_master)
                assert TOKEN not in " ".join(str(v) for v in row), table
