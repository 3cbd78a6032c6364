"""Kalshi's answers read strictly (engine/venues/kalshi/fixed.py, models.py, http.py,
books.py), without a socket: a number with a trailing newline or non-ASCII digits is refused
(Kalshi writes neither; int() would read both), a fill of nothing is refused where it is parsed (and
left out of a fills listing by name, so the fills after it are still read), an answer nested past the
bound is an answer the desk cannot read (never a RecursionError), and a book frame whose `seq` is
not a whole number is a gap, never an exception out of the feed."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import load_settings
from contracts.venues.kalshi.ids import token_id
from contracts.venues.kalshi.settings import KalshiSettings
from engine.feeds.books import BookCache
from engine.venues.kalshi import models
from engine.venues.kalshi.books import KalshiBookFeed
from engine.venues.kalshi.client import KalshiClient
from engine.venues.kalshi.fixed import KalshiShapeError, count, dollars, price
from engine.venues.kalshi.http import KalshiBusy, KalshiHttp, KalshiRefused, KalshiUnavailable, error_of
from tests.kalshi import keypair

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("raw", ["0.4200\n", "0.42\n", "٣.00", "0.4٢", "１.00", " 0.42", "0.42 ", "+0.42", "0.42\r"])
def test_the_number_reader_refuses_what_kalshi_never_writes(raw: str) -> None:
    for read in (dollars, count):
        with pytest.raises(KalshiShapeError, match="not a fixed-point decimal"):
            read({"v": raw}, "v", "order o-1")
    with pytest.raises(KalshiShapeError):
        price({"v": raw}, "v", "order o-1")


def test_the_number_reader_still_reads_kalshis_own_exactly() -> None:
    assert dollars({"v": "0.4200"}, "v", "x") == 420_000 and dollars({"v": "-1.000001"}, "v", "x", signed=True) == \
        -1_000_001
    assert count({"v": "3.25"}, "v", "x") == 3_250_000 and price({"v": "0.9950"}, "v", "x") == 995_000


def _fill(**changes: Any) -> dict[str, Any]:
    return {"trade_id": "t-1", "order_id": "o-1", "market_ticker": "KXT-1", "book_side": "bid", "count_fp": "1.50",
            "yes_price_dollars": "0.4550", "fee_cost": "0.0109", "is_taker": False, "ts_ms": 1_700_000_000_000,
            "created_time": "2026-11-26T10:00:00Z", **changes}


@pytest.mark.parametrize("size", ["0.00", "0", "-1.00"])
def test_a_fill_of_nothing_is_refused_where_it_is_parsed(size: str) -> None:
    for parse in (models.fill, models.ws_fill):
        with pytest.raises(KalshiShapeError, match="count_fp"):
            parse(_fill(count_fp=size))
    assert models.ws_fill(_fill()).count == 1_500_000 and models.fill(_fill()).count == 1_500_000


class _OnePage(KalshiHttp):
    """One page of fills as Kalshi answers it, without a socket."""

    def __init__(self, fills: list[dict[str, Any]]) -> None:
        super().__init__("http://127.0.0.1:9/trade-api/v2")
        self.fills = fills

    async def request(self, method: str, path: str, **_: Any) -> Any:
        assert (method, path) == ("GET", "/portfolio/fills")
        return {"fills": self.fills, "cursor": ""}


def test_a_fills_listing_leaves_a_fill_of_nothing_out_and_reads_the_rest() -> None:
    page = [_fill(trade_id="t-0", count_fp="0.00"), _fill(trade_id="t-1"), _fill(trade_id="t-2", count_fp="2.00")]
    read = asyncio.run(KalshiClient(_OnePage(page)).fills())
    assert [(f.trade_id, f.count) for f in read] == [("t-1", 1_500_000), ("t-2", 2_000_000)]
    with pytest.raises(KalshiShapeError, match="count_fp"):  # a count that is no count still refuses the page
        asyncio.run(KalshiClient(_OnePage([_fill(count_fp="-1.00"), _fill()])).fills())


def test_an_error_body_nested_past_the_bound_is_an_unknown_outcome_never_a_refusal() -> None:
    """A 409 read from it could be a create sent again, the first one resting: nothing is known."""
    for status in (400, 409, 502):
        unknown = error_of(status, DEEP.encode())
        assert type(unknown) is KalshiUnavailable and "nested too deeply" in str(unknown)
    assert isinstance(error_of(429, DEEP.encode()), KalshiBusy)
    assert isinstance(error_of(403, b"<html>Access denied</html>"), KalshiRefused)  # not JSON: its status says


def _feed(tmp_path: Path) -> tuple[KalshiBookFeed, BookCache]:
    private_pem, _ = keypair()
    loaded = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db"),
                            "KALSHI_API_KEY_ID": "k", "KALSHI_PRIVATE_KEY": private_pem}).kalshi
    assert loaded is not None
    settings = KalshiSettings("http://127.0.0.1:9/trade-api/v2", "simulator", "k", loaded.private_key,
                              "ws://127.0.0.1:9/trade-api/ws/v2")
    books = BookCache()
    return KalshiBookFeed(settings, books, ["T"]), books


def _snapshot(seq: Any, ticker: str = "T") -> str:
    return json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": seq, "msg": {
        "market_ticker": ticker, "market_id": "m", "yes_dollars_fp": [["0.4000", "10.00"]],
        "no_dollars_fp": [["0.5550", "5.50"]]}})


@pytest.mark.parametrize("frame", [
    '{"type": "orderbook_delta", "sid": 1, "seq": 1e309, "msg": {}}',  # json reads it as inf
    '{"type": "orderbook_delta", "sid": 1, "seq": 2.0, "msg": {}}',
    '{"type": "orderbook_delta", "sid": 1, "seq": "2", "msg": {}}',
    '{"type": "orderbook_delta", "sid": 1, "seq": true, "msg": {}}',
    '{"type": "orderbook_delta", "sid": 1, "msg": {}}',
    '{"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": ' + DEEP + "}",
    '{"type": "error", "msg": [25]}',
])
def test_a_book_frame_the_feed_cannot_read_is_a_gap_never_an_exception(tmp_path: Path, frame: str) -> None:
    feed, books = _feed(tmp_path)

    async def scenario() -> None:
        feed.on_text(json.dumps({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}))
        feed.on_text(_snapshot(1))
        feed.on_text(frame)  # raised OverflowError (seq 1e309) or RecursionError (the deep one) before
        await asyncio.sleep(0)

    asyncio.run(scenario())
    if '"error"' in frame:
        assert feed.gaps == 0 and "refused" in (feed.last_error or "")
        return
    assert feed.gaps == 1 and feed.snapshots_asked == 1 and books.best_prices(token_id("T", "yes")) == (None, None)


def test_a_snapshot_of_a_market_never_asked_for_is_left_out(tmp_path: Path) -> None:
    feed, books = _feed(tmp_path)

    async def scenario() -> None:
        feed.on_text(json.dumps({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}))
        feed.on_text(_snapshot(1))
        feed.on_text(_snapshot(2, "KXSTRANGER-1"))  # on the sequence: not a gap, just not ours
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert books.best_prices(token_id("KXSTRANGER-1", "yes")) == (None, None)
    assert feed._levels.keys() == {"T"} and feed.foreign == 1 and feed.gaps == 0
    assert books.best_prices(token_id("T", "yes")) == (400_000, 445_000)
