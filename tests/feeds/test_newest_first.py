"""Reading a newest-first listing by offset while it grows at its head: each row once, identical
fills kept as many times as they were listed, and a listing moving faster than a page refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine.feeds.newest_first import ListingMoved, continuation, read_newest_first


def _trade(n: int, tx: str | None = None) -> dict[str, Any]:
    return {"transactionHash": tx or f"0x{n:x}", "asset": "7", "conditionId": "0x" + "1" * 64, "side": "BUY",
            "price": 0.5, "size": 1 + n / 100, "timestamp": 1_790_000_000 + n}


class GrowingListing:
    """A listing served newest first by offset, `arrivals` new rows coming in at its head after each
    page is read (as a wallet trading while it is read)."""

    def __init__(self, rows: list[dict[str, Any]], arrivals: int) -> None:
        self.oldest_first = list(rows)
        self.arrivals, self.next_n = arrivals, 10_000
        self.offsets: list[int] = []

    async def page(self, offset: int, limit: int) -> list[Any]:
        self.offsets.append(offset)
        newest_first = self.oldest_first[::-1]
        served = newest_first[offset:offset + limit]
        for _ in range(self.arrivals):
            self.next_n += 1
            self.oldest_first.append(_trade(self.next_n))
        return served


def _read(listing: GrowingListing, page: int = 100, max_offset: int = 10_000) -> Any:
    return asyncio.run(read_newest_first(lambda offset: listing.page(offset, page), page, max_offset,
                                         lambda rows: False))


def test_rows_that_come_in_while_the_pages_are_read_push_nothing_in_twice() -> None:
    rows = [_trade(n) for n in range(450)]
    identical = [_trade(10_000_000, tx="0xsame") for _ in range(3)]  # three fills alike in one transaction
    rows[352:352] = identical  # listed 98th to 100th: they straddle the first page's end
    listing = GrowingListing(rows, arrivals=7)
    read = _read(listing)
    assert read.complete
    hashes = [r["transactionHash"] for r in read.rows]
    assert hashes.count("0xsame") == 3
    without = [h for h in hashes if h != "0xsame"]
    assert len(without) == len(set(without))  # no row read twice
    assert set(without) >= {f"0x{n:x}" for n in range(450)}  # and none of the first listing missed
    assert listing.offsets[:2] == [0, 50]  # each page asks for the last 50 rows of the one before again


def test_the_smallest_shift_that_explains_the_page_is_taken() -> None:
    read = [_trade(n) for n in range(10, 0, -1)]
    page = [_trade(n) for n in (12, 11)] + read[-3:] + [_trade(0)]
    assert continuation(read, page, 3) == [_trade(0)]
    assert continuation(read, [_trade(99)] * 6, 3) is None


def test_a_listing_that_grows_by_more_than_a_page_between_reads_is_refused() -> None:
    listing = GrowingListing([_trade(n) for n in range(300)], arrivals=120)
    with pytest.raises(ListingMoved, match="kept changing faster than it could be read"):
        _read(listing)
    assert listing.offsets == [0, 50] * 3  # three tries, each from the head


def test_a_read_past_the_deepest_offset_says_it_is_not_complete() -> None:
    listing = GrowingListing([_trade(n) for n in range(1_000)], arrivals=0)
    read = _read(listing, max_offset=200)
    assert not read.complete and listing.offsets == [0, 50, 100, 150, 200]
    assert [r["transactionHash"] for r in read.rows] == [f"0x{n:x}" for n in range(999, 999 - 300, -1)]
