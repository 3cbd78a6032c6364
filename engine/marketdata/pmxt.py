"""The PMXT archive (hourly Parquet files of Polymarket's order-book stream) read as this desk's
recording rows, one market filter applied while reading.

Two layouts exist, told apart by their columns:
- v1 (from 2026-02-21): `timestamp_received`, `timestamp_created_at`, `market_id` (the condition
  id), `update_type`, `data` (JSON text: `token_id`, `side` YES/NO, `best_bid`, `best_ask`,
  `change_price`, `change_size`, `change_side`; a `book_snapshot` carries `bids` and `asks`);
- v2 (from 2026-04-13): `timestamp_received`, `timestamp`, `market` (the condition id as 66
  ASCII bytes), `event_type` (`book`, `price_change`, `last_trade_price`, `tick_size_change`),
  `asset_id`, `bids`/`asks` (JSON text `[["price", "size"], ...]`), `price`, `size`, `side`,
  `best_bid`, `best_ask`.

Rows become ticks `(at, token_id, kind, side, price, size, mid, data)` in micro-units at the
time the archive received them (what a desk listening then would have seen): a snapshot a
`book`, a level update a `change` (BUY: the bid side; size 0 removes the level), a last trade a
`trade`. Nothing is guessed: a row that cannot be read as one of those (a price off the grid, a
token of another market, a change before its token's first snapshot, an unknown event) is
counted under its reason and left out. The files are read in record batches with the market
filter pushed down to Parquet's row groups, so memory stays bounded whatever a file's size.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from contracts.domain import BadNumber, to_micros

Tick = tuple[int, str, str, str | None, int | None, int | None, int | None, str | None]
BATCH_ROWS = 65_536
GRID = 100  # the venue's finest price grid (0.0001) in micro-units
MICRO = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
V1 = frozenset({"timestamp_received", "market_id", "update_type", "data"})
V2 = frozenset({"timestamp_received", "market", "event_type", "asset_id", "bids", "asks", "price", "size", "side",
                "best_bid", "best_ask"})


class PmxtError(Exception):
    """A file or folder that is not the PMXT archive as documented; nothing was imported."""


@dataclass
class PmxtReport:
    files: int = 0
    rows: int = 0  # rows of the asked markets read
    ticks: int = 0
    bad: Counter[str] = field(default_factory=Counter)  # reason -> rows left out

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "rows": self.rows, "ticks": self.ticks, "left_out": dict(self.bad)}


def archive_files(path: Path) -> list[Path]:
    """The hourly files a path names: the file itself, or a folder's *.parquet in name order
    (the archive names them by hour, so name order is time order)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".parquet" and p.is_file())
        if files:
            return files
        raise PmxtError(f"no .parquet file in {str(path)!r}")
    raise PmxtError(f"no file or folder {str(path)!r}")


def layout(path: Path) -> str:
    try:
        names = set(ds.dataset(path, format="parquet").schema.names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise PmxtError(f"{path.name}: not a Parquet file ({str(exc)[:200]})") from None
    if V2 <= names:
        return "v2"
    if V1 <= names:
        return "v1"
    raise PmxtError(f"{path.name}: not a PMXT archive file (columns {', '.join(sorted(names))[:300]})")


def read_ticks(files: list[Path], tokens: Mapping[str, str], report: PmxtReport,
               progress: Callable[[int], None] | None = None) -> Iterator[Tick]:
    """The ticks of the markets `tokens` belong to ({token id: condition id}), file by file in
    each file's order (callers sort by time: the archive is sorted by market and token)."""
    markets = sorted(set(tokens.values()))
    booked: set[str] = set()  # tokens whose first snapshot has been read
    for path in files:
        kind = layout(path)
        report.files += 1
        try:
            yield from _file_ticks(path, kind, markets, tokens, booked, report, progress)
        except (pa.ArrowException, OSError) as exc:
            raise PmxtError(f"{path.name}: cannot be read past row {report.rows:,} ({str(exc)[:200]})") from None


def _file_ticks(path: Path, kind: str, markets: list[str], tokens: Mapping[str, str], booked: set[str],
                report: PmxtReport, progress: Callable[[int], None] | None) -> Iterator[Tick]:
    column = "market_id" if kind == "v1" else "market"
    dataset = ds.dataset(path, format="parquet")
    id_type = dataset.schema.field(column).type
    # The archive's v2 stores the id as 66 ASCII bytes; compare in the column's own type.
    wanted = ([pa.scalar(m.encode(), id_type) for m in markets]
              if pa.types.is_binary(id_type) or pa.types.is_fixed_size_binary(id_type) else markets)
    rows = dataset.to_batches(filter=ds.field(column).isin(wanted), batch_size=BATCH_ROWS,
                              columns=sorted(V1 if kind == "v1" else V2))
    convert = _v1_ticks if kind == "v1" else _v2_ticks
    for batch in rows:
        report.rows += batch.num_rows
        for tick in convert(batch.to_pylist(), tokens, booked, report.bad):
            report.ticks += 1
            yield tick
        if progress is not None:
            progress(report.rows)


def trade_ticks(trades: list[Any], tokens: Mapping[str, str], span: tuple[int, int],
                report: PmxtReport) -> Iterator[Tick]:
    """The Data API's public trades (taker side, price, size, a time in seconds) of the markets
    `tokens` belong to, as trade ticks inside `span`. A trade's time is its second's start: the
    Data API says no more, so within that second it may replay before book changes it followed."""
    for trade in trades:
        if not isinstance(trade, Mapping):
            report.bad["a trade that is not an object"] += 1
            continue
        token, seconds = trade.get("asset"), trade.get("timestamp")
        at = seconds * 1000 if isinstance(seconds, int) and not isinstance(seconds, bool) else None
        if at is not None and not span[0] <= at <= span[1]:
            report.bad["a trade outside the archive files' span"] += 1
            continue
        tick = _tick("trade", at, token, trade.get("conditionId"), tokens, set(),
                     (None, None, None), (None, None), (trade.get("side"), trade.get("price"), trade.get("size")),
                     (None, None))
        if isinstance(tick, str):
            report.bad[tick] += 1
        else:
            report.ticks += 1
            yield tick


# -- v1: JSON in `data` ----------------------------------------------------------------------


def _v1_ticks(rows: list[dict[str, Any]], tokens: Mapping[str, str], booked: set[str],
              bad: Counter[str]) -> Iterator[Tick]:
    for row in rows:
        try:
            data = json.loads(row["data"]) if isinstance(row["data"], str) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            bad["data that is not a JSON object"] += 1
            continue
        kind = row["update_type"]
        levels = (data.get("change_side"), data.get("change_price"), data.get("change_size"))
        book = (data.get("bids"), data.get("asks"))
        tick = _tick(kind, _ms(row["timestamp_received"]), data.get("token_id"), row["market_id"], tokens, booked,
                     levels, book, (None, None, None), (data.get("best_bid"), data.get("best_ask")))
        if isinstance(tick, str):
            bad[tick] += 1
        else:
            yield tick


# -- v2: typed columns -----------------------------------------------------------------------


def _v2_ticks(rows: list[dict[str, Any]], tokens: Mapping[str, str], booked: set[str],
              bad: Counter[str]) -> Iterator[Tick]:
    for row in rows:
        market = row["market"].decode() if isinstance(row["market"], bytes) else row["market"]
        kind = {"book": "book_snapshot", "last_trade_price": "trade"}.get(row["event_type"], row["event_type"])
        levels = (row["side"], row["price"], row["size"])
        book = (_levels_text(row["bids"]), _levels_text(row["asks"]))
        tick = _tick(kind, _ms(row["timestamp_received"]), row["asset_id"], market, tokens, booked,
                     levels, book, levels, (row["best_bid"], row["best_ask"]))
        if isinstance(tick, str):
            bad[tick] += 1
        else:
            yield tick


def _levels_text(raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return "unreadable"


# -- one row to one tick (or the reason it is left out) ----------------------------------------


def _tick(kind: Any, at: int | None, token: Any, market: Any, tokens: Mapping[str, str], booked: set[str],
          change: tuple[Any, Any, Any], book: tuple[Any, Any], trade: tuple[Any, Any, Any],
          best: tuple[Any, Any]) -> Tick | str:
    if at is None:
        return "a receive time that is not a time"
    if not isinstance(token, str) or tokens.get(token) != market:
        return "a token that is not one of its market's"
    mid = _mid(*best)
    if kind == "book_snapshot":
        levels = _book(*book)
        if levels is None:
            return "a book snapshot whose levels are not [price on the grid, size above 0]"
        booked.add(token)
        return at, token, "book", None, None, None, mid, json.dumps(levels, separators=(",", ":"))
    if kind == "price_change":
        if token not in booked:
            return "a change before its token's first book snapshot"
        side, price, size = change
        price_m, size_m = _price(price), _size(size, empty=True)
        if side not in ("BUY", "SELL") or price_m is None or size_m is None:
            return "a change that is not side BUY/SELL, a price on the grid and a size of 0 or more"
        return at, token, "change", side, price_m, size_m, mid, None
    if kind == "trade":
        side, price, size = trade
        price_m, size_m = _price(price), _size(size, empty=False)
        if side not in ("BUY", "SELL") or price_m is None or not 0 < price_m < MICRO or size_m is None:
            return "a trade that is not side BUY/SELL, a price inside (0, 1) on the grid and a size above 0"
        return at, token, "trade", side, price_m, size_m, mid, None
    if kind == "tick_size_change":
        return "a tick size change (the market's tick comes from its metadata)"
    return f"an event of a type this desk does not read ({str(kind)[:30]})"


def _ms(value: Any) -> int | None:
    """A timestamp column's value (an aware datetime) as epoch ms, without float rounding."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return (value - EPOCH) // timedelta(milliseconds=1)
    return None


def _micros(value: Any) -> int | None:
    try:
        return to_micros(value if isinstance(value, (str, Decimal)) else str(value), exact=True)
    except (BadNumber, InvalidOperation, ValueError, TypeError):
        return None


def _price(value: Any) -> int | None:
    micros = _micros(value) if value is not None else None
    return micros if micros is not None and 0 <= micros <= MICRO and micros % GRID == 0 else None


def _size(value: Any, *, empty: bool) -> int | None:
    micros = _micros(value) if value is not None else None
    return micros if micros is not None and micros >= (0 if empty else 1) else None


def _mid(bid: Any, ask: Any) -> int | None:
    low, high = _price(bid) if bid is not None else None, _price(ask) if ask is not None else None
    return None if low is None or high is None or low > high else (low + high) // 2


def _book(bids: Any, asks: Any) -> dict[str, list[list[int]]] | None:
    """{"b": [[price, size], ...] best first, "a": [...]}, or None when a level is unreadable."""
    sides: dict[str, list[list[int]]] = {}
    for key, raw, best_first in (("b", bids, True), ("a", asks, False)):
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            return None
        levels = []
        for level in raw:
            price, size = (level.get("price"), level.get("size")) if isinstance(level, dict) else (
                level if isinstance(level, list) and len(level) == 2 else (None, None))
            price_m, size_m = (_price(price), _size(size, empty=False)) if price is not None else (None, None)
            if price_m is None or size_m is None:
                return None
            levels.append([price_m, size_m])
        sides[key] = sorted(levels, key=lambda lv: lv[0], reverse=best_first)
    return sides
