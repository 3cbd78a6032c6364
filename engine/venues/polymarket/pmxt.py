"""The PMXT archive (hourly Parquet files of Polymarket's order-book stream) read as this desk's
recording rows, one market filter applied while reading.

Two layouts exist, told apart by their columns:
- v1 (from 2026-02-21): `timestamp_received`, `timestamp_created_at`, `market_id` (the condition
  id), `update_type`, `data` (JSON text: `token_id`, `side` YES/NO, `best_bid`, `best_ask`,
  `change_price`, `change_size`, `change_side`; a `book_snapshot` carries `bids` and `asks`);
- v2 (from 2026-04-13): `timestamp_received`, `timestamp`, `market` (the condition id as 66
  ASCII bytes), `event_type` (`book`, `price_change`, `last_trade_price`, `tick_size_change`),
  `asset_id`, `bids`/`asks` (JSON text `[["price", "size"], ...]`), `price`, `size`, `side`,
  `best_bid`, `best_ask`, and for prints and tick changes `fee_rate_bps`, `transaction_hash`,
  `old_tick_size`, `new_tick_size`.

Rows become ticks (engine/venues/polymarket/pmxt_rows.py) at the time the archive received them (what a
desk listening then would have seen). Memory stays bounded whatever the files hold: a row group
whose statistics exclude the asked markets is skipped, and any other is read in slices of
BATCH_ROWS rows, streamed from disk page by page, never whole (the archive's row groups hold
1,048,576 rows; one of another market decoded whole took 1.2 GB).

Files named by their hour (`polymarket_orderbook_2026-04-17T12.parquet`) are checked for missing
hours: at each gap every token's book is reset (an empty book at the gap's start) and a change
before its token's next snapshot is left out, so nothing replays a book across hours nobody saw.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.venues.polymarket.pmxt_rows import BEFORE_SNAPSHOT, RowState, Tick, v1_ticks, v2_ticks

BATCH_ROWS = 16_384
READ_BUFFER = 1 << 20  # bytes read at a time from a column chunk (0 would read each chunk whole)
HOUR_MS = 3_600_000
V1 = frozenset({"timestamp_received", "market_id", "update_type", "data"})
V2 = frozenset({"timestamp_received", "market", "event_type", "asset_id", "bids", "asks", "price", "size", "side",
                "best_bid", "best_ask"})
V2_PRINTS = frozenset({"timestamp", "fee_rate_bps", "transaction_hash", "old_tick_size", "new_tick_size"})
HOUR_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2})\.parquet$")


class PmxtError(Exception):
    """A file or folder that is not the PMXT archive as documented; nothing was imported."""


@dataclass
class PmxtReport:
    files: int = 0
    rows: int = 0  # rows of the asked markets read
    ticks: int = 0
    layouts: set[str] = field(default_factory=set)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (from, to) ms: hours missing between files
    first_hour: str | None = None  # the first file's hour, when its name says it
    state: RowState | None = None

    @property
    def bad(self) -> Any:
        return self.state.bad if self.state is not None else {}

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "rows": self.rows, "ticks": self.ticks, "layouts": sorted(self.layouts),
                "left_out": dict(self.bad), "gaps": [list(g) for g in self.gaps],
                "tick_size_changes": len(self.state.tick_changes) if self.state else 0}


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
        names = set(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise PmxtError(f"{path.name}: not a Parquet file ({str(exc)[:200]})") from None
    if V2 <= names:
        return "v2"
    if V1 <= names:
        return "v1"
    raise PmxtError(f"{path.name}: not a PMXT archive file (columns {', '.join(sorted(names))[:300]})")


def file_hour(path: Path) -> int | None:
    """The hour a file's name says it holds (epoch ms of its start), or None."""
    found = HOUR_NAME.search(path.name)
    if found is None:
        return None
    try:
        return int(datetime.strptime(found.group(1), "%Y-%m-%dT%H").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        return None


def hour_name(at_ms: int) -> str:
    return "polymarket_orderbook_" + datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H") + ".parquet"


def read_ticks(files: list[Path], state: RowState, report: PmxtReport,
               progress: Callable[[int], None] | None = None) -> Iterator[Tick]:
    """The ticks of the markets `state.tokens` belong to ({token id: condition id}), file by file in
    each file's order (callers sort by time: the archive is sorted by market and token)."""
    report.state = state
    markets = sorted(set(state.tokens.values()))
    previous: int | None = None
    for path in files:
        kind = layout(path)
        report.files += 1
        report.layouts.add(kind)
        hour = file_hour(path)
        if hour is not None and report.first_hour is None and report.files == 1:
            report.first_hour = path.name
        if hour is not None and previous is not None and hour > previous + HOUR_MS:
            yield from _gap(previous + HOUR_MS, hour, state, report)
        previous = hour if hour is not None else previous
        try:
            yield from _file_ticks(path, kind, markets, state, report, progress)
        except (pa.ArrowException, OSError) as exc:
            raise PmxtError(f"{path.name}: cannot be read past row {report.rows:,} ({str(exc)[:200]})") from None


def _gap(start: int, end: int, state: RowState, report: PmxtReport) -> Iterator[Tick]:
    """Hours [start, end) are missing: every token's book is emptied at the gap's start (what the
    desk knew then is gone), and each waits for its next snapshot."""
    report.gaps.append((start, end - 1))
    for token in sorted(state.booked):
        yield start, token, "book", None, None, None, None, '{"b":[],"a":[]}'
    state.reset |= state.booked
    state.booked.clear()


def _file_ticks(path: Path, kind: str, markets: list[str], state: RowState, report: PmxtReport,
                progress: Callable[[int], None] | None) -> Iterator[Tick]:
    column = "market_id" if kind == "v1" else "market"
    parquet = pq.ParquetFile(path, buffer_size=READ_BUFFER, pre_buffer=False)
    names = set(parquet.schema_arrow.names)
    columns = sorted(V1 if kind == "v1" else V2 | (V2_PRINTS & names))
    id_type = parquet.schema_arrow.field(column).type
    as_bytes = pa.types.is_binary(id_type) or pa.types.is_fixed_size_binary(id_type)
    # The archive's v2 stores the id as 66 ASCII bytes; compare in the column's own type.
    wanted_values = [m.encode() for m in markets] if as_bytes else markets
    wanted = pa.array(wanted_values, type=pa.binary() if as_bytes else pa.string())
    convert = v1_ticks if kind == "v1" else v2_ticks
    position = parquet.schema_arrow.get_field_index(column)
    for group in range(parquet.metadata.num_row_groups):
        if _excluded(parquet.metadata.row_group(group), position, wanted_values):
            continue
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[group], columns=columns,
                                          use_threads=False):
            ids = batch.column(column)
            if as_bytes and not pa.types.is_binary(ids.type):
                ids = ids.cast(pa.binary())
            mine = batch.filter(pc.is_in(ids, value_set=wanted))
            if mine.num_rows == 0:
                continue
            report.rows += mine.num_rows
            for tick in convert(_as_rows(mine), state):
                report.ticks += 1
                yield tick
            if progress is not None:
                progress(report.rows)


_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _as_rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """The slice's rows as dicts, each time column's value as epoch ms (an int) rather than a Python
    datetime: a time outside Python's years 1 to 9999 (year 10000, or 1 ms before year 1) would
    raise converting the whole slice; as a number it is one row's, which the row's checks refuse
    by name. A time without a zone is no time (None)."""
    per_second: dict[str, int] = {}
    for index, column in enumerate(batch.schema):
        if pa.types.is_timestamp(column.type):
            if column.type.tz is None:
                batch = batch.set_column(index, column.name, pa.nulls(batch.num_rows, pa.int64()))
            else:
                batch = batch.set_column(index, column.name, batch.column(index).cast(pa.int64()))
                per_second[column.name] = _PER_SECOND[column.type.unit]
    rows = batch.to_pylist()
    for name, units in per_second.items():
        for row in rows:
            if row[name] is not None:
                row[name] = row[name] * 1_000 // units
    return rows


def _excluded(group: pq.RowGroupMetaData, position: int, wanted: list[Any]) -> bool:
    """Whether the row group's statistics of the market column rule out every asked market (the
    archive is sorted by market, so most groups of an hour are skipped unread)."""
    if position < 0 or position >= group.num_columns:
        return False
    stats = group.column(position).statistics
    if stats is None or not stats.has_min_max:
        return False
    low, high = stats.min, stats.max
    try:
        return all(not low <= value <= high for value in wanted)
    except TypeError:  # statistics of another type than the values: read the group
        return False


def hour_before_hint(report: PmxtReport) -> str:
    """What to do when rows before a token's first snapshot were left out in the first file."""
    state = report.state
    dropped = state.bad.get(BEFORE_SNAPSHOT, 0) if state else 0
    if not dropped:
        return ""
    start = file_hour(Path(report.first_hour)) if report.first_hour else None
    named = f" ({hour_name(start - HOUR_MS)})" if start is not None and start >= HOUR_MS else ""  # a date can name it
    return (f"{dropped:,} change(s) came before their token's first snapshot and were left out: the books are known "
            f"only from each token's first snapshot; include the hour before{named} so they are known from the start "
            "(import-history --pmxt-from fetches it for you)")

