"""Copy trading at the speed of the trade (issue 61, item 2), against the simulator: a followed
wallet's trade is kept off the venue's real-time trade stream within 2 s of the venue's report; the
Data API reconciles, page after page, so a burst of 1,000 trades is kept whole, each trade once,
whether the stream heard it or not, and across a restart of the follower."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from contracts.followed_wallets import FollowedWallet
from engine.venues.polymarket.follow.poller import WalletFollower
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import wait_until

WHALE, SHRIMP, OTHER = "0x" + "ab" * 20, "0x" + "cd" * 20, "0x" + "ef" * 20


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # the Data API lists a trade once it is confirmed, about a second after the match
    with running_simulator(seed=61, agents=False, mined_delay_s=0.5, confirmed_delay_s=0.5) as handle:
        yield handle


def _db(tmp: Path) -> Database:
    migrate(tmp / "t.db")
    return Database(tmp / "t.db")


def _rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


# The Data API's /trades is billed 50 requests per 10 s on the simulator as on the venue: a test
# waiting on it asks at most twice a second, leaving the follower its share (a follower refused
# with a 429 reads nothing that poll, which is what it should do).
LISTED_EVERY_S = 0.5


def _listed(sim: SimHandle, wallet: str) -> int:
    """How many of the wallet's trades the Data API lists (at most 10,000)."""
    rows = httpx.get(f"{sim.data_api_host}/trades", params={"user": wallet, "takerOnly": "false", "limit": 10_000})
    return len(rows.json())


async def _until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_a_followed_trade_is_kept_off_the_stream_within_two_seconds_and_once(tmp_path: Path, sim: SimHandle) -> None:
    db = _db(tmp_path)
    token = sim.market(neg_risk=False, index=2)["yes_token_id"]
    whale = [FollowedWallet(WHALE, "whale")]
    follower = WalletFollower(db, sim.data_api_host, sim.rtds_host)
    printed: dict[str, float] = {}

    async def scenario() -> None:
        await follower.watch(whale)  # followed from now; the stream starts
        assert follower.stream is not None
        await _until(lambda: follower.stream is not None and follower.stream.stats.connected, 10, "the stream")
        await asyncio.sleep(1.1)  # a second after the following began: not history
        sim.burst(OTHER, token, count=3)  # someone else's trades: not looked at
        printed["at"] = time.time()
        sim.burst(WHALE, token, count=1, price="0.42", size="7")
        await _until(lambda: _rows(db, "SELECT COUNT(*) FROM followed_trades")[0][0] == 1, 5, "the trade")
        printed["kept"] = time.time()
        await asyncio.to_thread(wait_until, lambda: _listed(sim, WHALE) == 1, 10, LISTED_EVERY_S, what="the Data API")
        assert await follower.poll(whale, int(time.time() * 1000)) == 0  # the Data API's copy: the same trade
        await follower.close()

    asyncio.run(scenario())
    [(wallet, side, price, size, source, seen, reported, at)] = _rows(
        db, "SELECT wallet, side, price, size, source, seen_at, reported_at, at FROM followed_trades")
    assert (wallet, side, price, size, source) == (WHALE, "BUY", 420_000, 7_000_000, "stream")
    assert reported is not None and 0 <= seen - reported <= 2_000  # within 2 s of the venue's report
    assert printed["kept"] - printed["at"] < 2.0
    assert at // 1000 == int(printed["at"]) or at // 1000 == int(printed["at"]) + 1
    assert follower.stream is not None and sum(follower.stream.rejected.values()) == 0
    [(since, reconciled)] = _rows(db, "SELECT since_ms, reconciled_s FROM follow_cursors WHERE wallet = :w", w=WHALE)
    assert reconciled is not None and reconciled >= since // 1000


def test_a_burst_of_a_thousand_trades_is_kept_whole_each_once(tmp_path: Path, sim: SimHandle) -> None:
    """Heard on the stream as it prints; then read again from the Data API (two pages of 500 and
    more): nothing lost, nothing kept twice."""
    db = _db(tmp_path)
    token = sim.market(neg_risk=False, index=3)["yes_token_id"]
    whale = [FollowedWallet(WHALE, "whale")]
    follower = WalletFollower(db, sim.data_api_host, sim.rtds_host)
    before = _listed(sim, WHALE)

    async def scenario() -> None:
        await follower.watch(whale)
        await _until(lambda: follower.stream is not None and follower.stream.stats.connected, 10, "the stream")
        await asyncio.sleep(1.1)
        started = time.time()
        sim.burst(WHALE, token, count=1000, price="0.31")
        await _until(lambda: _rows(db, "SELECT COUNT(*) FROM followed_trades")[0][0] >= 1000, 10, "the burst")
        assert time.time() - started < 3.0
        await asyncio.to_thread(wait_until, lambda: _listed(sim, WHALE) >= before + 1000, 20, LISTED_EVERY_S,
                                what="the burst on the Data API")
        assert await follower.poll(whale, int(time.time() * 1000)) == 0
        await follower.close()

    asyncio.run(scenario())
    [(count, distinct, sizes, streamed, late)] = _rows(
        db, """SELECT COUNT(*), COUNT(DISTINCT trade_key), COUNT(DISTINCT size), SUM(source = 'stream'),
                      MAX(seen_at - reported_at) FROM followed_trades""")
    assert (count, distinct, sizes, streamed) == (1000, 1000, 1000, 1000)
    assert late <= 2_000


def test_without_the_stream_the_data_api_pages_bring_every_trade_and_a_restart_loses_none(
        tmp_path: Path, sim: SimHandle) -> None:
    """No stream (down, or not configured): the poll reads page after page back to what it had read,
    so a burst bigger than a page is kept whole; a follower started again on the same database reads
    on from its cursor, keeping what the wallet did while it was stopped."""
    db = _db(tmp_path)
    token = sim.market(neg_risk=False, index=4)["yes_token_id"]
    shrimp = [FollowedWallet(SHRIMP, "shrimp")]

    async def first() -> None:
        follower = WalletFollower(db, sim.data_api_host)  # no stream
        assert await follower.poll(shrimp, int(time.time() * 1000)) == 0  # followed from now
        await asyncio.sleep(1.1)
        before = _listed(sim, SHRIMP)
        sim.burst(SHRIMP, token, count=1000, price="0.62")
        await asyncio.to_thread(wait_until, lambda: _listed(sim, SHRIMP) >= before + 1000, 20, LISTED_EVERY_S,
                                what="the burst on the Data API")
        assert await follower.poll(shrimp, int(time.time() * 1000)) == 1000  # one page of 100 lost 900 here
        assert await follower.poll(shrimp, int(time.time() * 1000)) == 0
        await follower.close()

    async def after_a_restart() -> None:
        before = _listed(sim, SHRIMP)
        sim.burst(SHRIMP, token, count=120, price="0.63")  # while nothing follows
        await asyncio.to_thread(wait_until, lambda: _listed(sim, SHRIMP) >= before + 120, 20, LISTED_EVERY_S,
                                what="the trades made while stopped")
        follower = WalletFollower(db, sim.data_api_host)
        assert await follower.poll(shrimp, int(time.time() * 1000)) == 120
        await follower.close()

    asyncio.run(first())
    asyncio.run(after_a_restart())
    assert _rows(db, "SELECT COUNT(*), COUNT(DISTINCT trade_key), MIN(source) FROM followed_trades") == [
        (1120, 1120, "data_api")]


def test_a_wallet_followed_afresh_forgets_its_cursor_and_history_is_never_kept(tmp_path: Path,
                                                                              sim: SimHandle) -> None:
    db = _db(tmp_path)
    token = sim.market(neg_risk=False, index=5)["yes_token_id"]
    sim.burst(OTHER, token, count=5, price="0.2")  # before anyone follows OTHER: history
    wait_until(lambda: _listed(sim, OTHER) >= 5, 20, LISTED_EVERY_S, what="the history")
    follower = WalletFollower(db, sim.data_api_host)
    other = [FollowedWallet(OTHER, "other")]

    async def scenario() -> None:
        assert await follower.poll(other, int(time.time() * 1000)) == 0
        assert await follower.poll([], int(time.time() * 1000)) == 0  # no longer followed: cursor dropped
        assert _rows(db, "SELECT COUNT(*) FROM follow_cursors") == [(0,)]
        assert await follower.poll(other, int(time.time() * 1000)) == 0  # followed again: from now
        await follower.close()

    asyncio.run(scenario())
    assert _rows(db, "SELECT COUNT(*) FROM followed_trades") == [(0,)]


def test_hostile_stream_messages_are_counted_and_never_kept(tmp_path: Path) -> None:
    db = _db(tmp_path)
    follower = WalletFollower(db, "http://127.0.0.1:9", "ws://127.0.0.1:9/rtds")
    stream = follower.stream
    assert stream is not None
    follower.follow([FollowedWallet(WHALE, "whale")], 1_000)
    good = {"proxyWallet": WHALE, "conditionId": "0x" + "1" * 64, "asset": "123", "side": "BUY", "price": 0.4,
            "size": 3, "timestamp": 1_800_000_000, "transactionHash": "0xab"}

    def say(payload: Any, topic: str = "activity", kind: str = "trades") -> None:
        stream.on_text(json.dumps({"topic": topic, "type": kind, "timestamp": 1_800_000_000_500,
                                   "payload": payload}))

    for hostile in ({**good, "price": 1.5}, {**good, "price": "0.4"}, {**good, "size": -3},
                    {**good, "side": "HOLD"}, {**good, "asset": "x" * 10}, {**good, "timestamp": True},
                    {**good, "transactionHash": ""}, {**good, "conditionId": "0x12"}):
        say(hostile)
    stream.on_text("not json")
    stream.on_text(json.dumps({"topic": "activity", "type": "trades", "payload": [good]}))
    say({**good, "proxyWallet": OTHER, "price": 7})  # another wallet's: not even read
    say(good, kind="orders_matched")  # a type the desk did not ask for
    assert sum(stream.rejected.values()) == 10 and stream.pending == []
    say(good)
    say({**good, "proxyWallet": WHALE.upper().replace("0X", "0x")})  # an identical 2nd fill of one transaction
    assert [(t.trade_key.endswith("#1"), t.reported_at) for t in stream.pending] == [
        (False, 1_800_000_000_500), (True, 1_800_000_000_500)]
    asyncio.run(follower.close())  # what was heard is written on the way out
    assert _rows(db, "SELECT COUNT(*), MIN(source) FROM followed_trades") == [(2, "stream")]



def test_a_burst_is_refused_in_words_when_it_cannot_be_made(sim: SimHandle) -> None:
    token = sim.market(neg_risk=False, index=2)["yes_token_id"]
    for body, said in (({"wallet": "0x12", "token_id": token}, "wallet must be a wallet address"),
                       ({"wallet": WHALE, "token_id": token, "count": 0}, "count must be a whole number"),
                       ({"wallet": WHALE, "token_id": token, "count": 5001}, "from 1 to 5000"),
                       ({"wallet": WHALE, "token_id": "999"}, "unknown token id")):
        answer = httpx.post(f"{sim.clob_host}/_sim/burst", json=body)
        assert answer.status_code == 400 and said in answer.text, (body, answer.text)
