"""The followed wallets setting and the rows the follower keeps: each refused in words."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from contracts.followed_wallets import FollowedWallet, FollowError, check_wallets
from engine.venues.polymarket.follow.poller import WalletFollower, unreadable
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

WHALE = "0x" + "ab" * 20


def test_wallets_are_checked_and_stored_in_lower_case() -> None:
    assert check_wallets([{"address": WHALE.upper().replace("0X", "0x"), "label": "whale"}]) == [
        {"address": WHALE, "label": "whale", "enabled": True}]
    for raw, said in [({"address": "0x12", "label": "w"}, "must be a wallet address"),
                      ({"address": WHALE, "label": "Big Whale"}, "label must be"),
                      ({"address": WHALE, "label": "w", "enabled": "yes"}, "enabled must be true or false"),
                      ({"address": WHALE, "label": "w", "size": 3}, "unknown field 'size'")]:
        with pytest.raises(FollowError, match=said):
            check_wallets([raw])
    with pytest.raises(FollowError, match="same label"):
        check_wallets([{"address": WHALE, "label": "w"}, {"address": "0x" + "cd" * 20, "label": "w"}])
    with pytest.raises(FollowError, match="at most 20 wallets"):
        check_wallets([{"address": "0x" + f"{i:040x}", "label": f"w{i}"} for i in range(21)])


def test_a_row_the_desk_cannot_read_is_named() -> None:
    good = {"conditionId": "0x" + "1" * 64, "asset": "123", "side": "BUY", "price": 0.4, "size": 3,
            "timestamp": 1_800_000_000, "transactionHash": "0xab"}
    assert unreadable(good) == ""
    assert unreadable({**good, "price": 1.0}) == "a price outside (0, 1)"
    assert unreadable({**good, "side": "HOLD"}) == "a side that is not BUY or SELL"
    assert unreadable({**good, "asset": "YES"}) == "no token id"
    assert unreadable([1]) == "not an object"


def test_a_wallet_that_cannot_be_read_is_alerted_once(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    follower = WalletFollower(db, "http://127.0.0.1:9")  # nothing listens there

    async def twice() -> None:
        for _ in range(2):
            assert await follower.poll([FollowedWallet(WHALE, "whale")], 0) == 0
        await follower.close()

    asyncio.run(twice())
    with db.read() as conn:
        codes = conn.execute(text("SELECT code, subject FROM alerts")).all()
    assert [tuple(c) for c in codes] == [("FOLLOW_FAILED", "whale")]
    db.dispose()


class _DataApi(ThreadingHTTPServer):
    """A Data API on 127.0.0.1 answering /trades with the rows it is handed (newest first), a page
    by `offset` and `limit`, as the venue's JSON writer would (Infinity and all); `after_page` runs
    once each page is taken (a wallet trading while it is read)."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.after_page: Callable[[], None] = lambda: None

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:  # noqa: N802, N805 (http.server's names)
                query = parse_qs(urlsplit(handler.path).query)
                offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["100"])[0])
                body = json.dumps(self.rows[offset:offset + limit]).encode()
                self.after_page()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args: Any) -> None:  # noqa: N805
                return None

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_hostile_trades_among_good_ones_are_left_out_counted_and_alerted_once(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    api = _DataApi()
    follower = WalletFollower(db, f"http://127.0.0.1:{api.server_address[1]}")
    good = {"conditionId": "0x" + "1" * 64, "asset": "123", "side": "BUY", "price": 0.4, "size": 3,
            "timestamp": 1_790_000_000, "transactionHash": "0xab"}
    hostile = [{**good, "size": 1e300}, {**good, "timestamp": 10**20}, {**good, "size": math.inf},
               {**good, "price": math.nan}, {**good, "size": -math.inf}, "a trade?"]

    async def polls() -> list[int]:
        kept = [await follower.poll([FollowedWallet(WHALE, "whale")], 0)]  # the first read is history
        for n in range(2):
            api.rows = [{**good, "transactionHash": f"0x{n}1"}, *hostile, {**good, "transactionHash": f"0x{n}2"}]
            kept.append(await follower.poll([FollowedWallet(WHALE, "whale")], 0))
        await follower.close()
        return kept

    try:
        assert asyncio.run(polls()) == [0, 2, 2]  # both good trades of each poll, around the hostile ones
    finally:
        api.shutdown()
        api.server_close()
    assert sum(follower.bad.values()) == 2 * len(hostile)
    with db.read() as conn:
        alerts = conn.execute(text("SELECT code, subject, message FROM alerts")).all()
        sizes = conn.execute(text("SELECT size, at FROM followed_trades")).all()
    assert [(a.code, a.subject) for a in alerts] == [("FOLLOW_RECORD_REFUSED", "whale")]
    assert "size above" in alerts[0].message and "time no trade has" in alerts[0].message
    assert [tuple(s) for s in sizes] == [(3_000_000, 1_790_000_000_000)] * 4
    db.dispose()


def test_a_wallet_trading_while_its_pages_are_read_has_each_trade_kept_once(tmp_path: Path) -> None:
    """The Data API lists a busy wallet newest first by offset: each trade that comes in at the head
    between two pages pushes the rows down, so a plain offset read meets rows of the page before
    again, and would keep each as a second fill of its transaction (`#1`), to be copied twice."""
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    api = _DataApi()
    follower = WalletFollower(db, f"http://127.0.0.1:{api.server_address[1]}")

    def trade(n: int) -> dict[str, Any]:
        return {"conditionId": "0x" + "1" * 64, "asset": "123", "side": "BUY", "price": 0.4, "size": 1 + n / 100,
                "timestamp": 1_790_000_000 + n, "transactionHash": f"0x{n:064x}"}

    def a_trade_comes_in() -> None:
        api.rows.insert(0, trade(len(api.rows)))

    async def polls() -> list[int]:
        kept = [await follower.poll([FollowedWallet(WHALE, "whale")], 0)]  # the first read is history
        api.rows = [trade(n) for n in range(1_200)][::-1]
        api.after_page = a_trade_comes_in
        kept.append(await follower.poll([FollowedWallet(WHALE, "whale")], 0))
        api.after_page = lambda: None
        kept.append(await follower.poll([FollowedWallet(WHALE, "whale")], 0))  # those that came in meanwhile
        await follower.close()
        return kept

    try:
        kept = asyncio.run(polls())
    finally:
        api.shutdown()
        api.server_close()
    with db.read() as conn:
        keys = [k for (k,) in conn.execute(text("SELECT trade_key FROM followed_trades")).all()]
        alerts = conn.execute(text("SELECT code FROM alerts")).all()
    assert kept[:2] == [0, 1_200] and sum(kept) == len(keys) == len(api.rows) > 1_200
    assert not [k for k in keys if "#" in k] and len({k.split(":")[0] for k in keys}) == len(keys)
    assert alerts == []
    db.dispose()
