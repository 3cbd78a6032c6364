"""A trading core driven pass by pass by its test."""

from __future__ import annotations

import asyncio

from engine.trading.core import TradingCore

BOOK_WAIT_S = 5.0


async def started_by_hand(core: TradingCore, condition_id: str) -> int:
    """Start `core` as the operator does, stop its loop (the test calls `tick` itself), and wait for
    the market's YES book; returns that book's mid."""
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()
    info = core.catalog.get(condition_id)
    assert info is not None
    deadline = asyncio.get_running_loop().time() + BOOK_WAIT_S
    while (book := core.books.book(info.yes_token)) is None or book.mid is None:
        assert asyncio.get_running_loop().time() < deadline, "the market's book never came"
        await asyncio.sleep(0.05)
    return book.mid
