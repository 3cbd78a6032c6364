"""Reading a listing that is served newest first, a page at a time by offset, while it grows at its
head: the Data API's v1 `/trades` of a wallet or a market that is trading as it is read.

A row that comes in at the head between two page reads pushes every row down one place, so a plain
`offset += limit` reads the last row of one page again as the first of the next. The Data API's
rows carry no id, and two identical fills in one transaction are two identical rows, so a row read
twice cannot be told from a second fill by looking at it alone. Instead, each page after the first
is asked for `overlap` rows early: those rows are the previous page's last ones, found again in the
new page after however many rows came in at the head since (`shift`), and only what follows them is
new. A page in which they cannot be found (more came in than a page holds, or rows went away) means
the read cannot be pieced together: it starts again, `attempts` times at most, and then is refused
(`ListingMoved`): never a row kept twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OVERLAP_ROWS = 50  # rows each page re-reads of the page before: a run of identical fills that long is no real one
ATTEMPTS = 3
IDENTITY = ("transactionHash", "asset", "conditionId", "side", "price", "size", "timestamp")


class ListingMoved(Exception):
    """The listing changed faster than it could be read whole."""


@dataclass(frozen=True)
class Listing:
    rows: list[Any]  # newest first, each row of the listing once
    complete: bool  # False: it went deeper than the API's deepest offset, so older rows were not read


def identity(row: Any) -> tuple[str, ...]:
    """What a row is, for finding it again: its trade's fields (a profile name beside it may change
    between two reads)."""
    if isinstance(row, Mapping):
        return tuple(repr(row.get(key)) for key in IDENTITY)
    return (repr(row),)


def continuation(read: Sequence[Any], page: Sequence[Any], overlap: int) -> list[Any] | None:
    """The rows of `page` after the last `overlap` rows of `read` (it was asked for from where they
    stood), wherever they now stand in it; None when they are not in it. The smallest shift wins:
    the rows that came in at the head are the fewest that explain the page."""
    tail = [identity(row) for row in read[len(read) - overlap:]] if overlap else []
    ids = [identity(row) for row in page]
    for shift in range(len(ids) - len(tail) + 1):
        if ids[shift:shift + len(tail)] == tail:
            return list(page[shift + len(tail):])
    return None


async def read_newest_first(fetch: Callable[[int], Awaitable[list[Any]]], page_size: int, max_offset: int,
                            far_enough: Callable[[list[Any]], bool], *, overlap: int = OVERLAP_ROWS,
                            attempts: int = ATTEMPTS) -> Listing:
    """Every row down to the first page that `far_enough` says reaches back far enough (or the
    listing's end, or `max_offset`). `fetch(offset)` reads one page of `page_size` rows and raises
    on failure; a page that is not a list is the caller's to refuse before it returns."""
    overlap = max(0, min(overlap, page_size - 1))
    for _ in range(attempts):
        listing = await _read_once(fetch, page_size, max_offset, far_enough, overlap)
        if listing is not None:
            return listing
    raise ListingMoved(f"the listing kept changing faster than it could be read ({attempts} tries: more rows came "
                       f"in between two pages than a page of {page_size} holds, or rows went away)")


async def _read_once(fetch: Callable[[int], Awaitable[list[Any]]], page_size: int, max_offset: int,
                     far_enough: Callable[[list[Any]], bool], overlap: int) -> Listing | None:
    rows: list[Any] = []
    offset = 0
    while True:
        page = await fetch(offset)
        fresh = continuation(rows, page, overlap) if rows else page
        if fresh is None:
            return None
        rows += fresh
        if len(page) < page_size or far_enough(fresh):
            return Listing(rows, True)
        # Where the last `overlap` rows read stand now: the page began at `offset`, after any shift.
        offset += len(page) - overlap
        if offset > max_offset:
            return Listing(rows, False)
