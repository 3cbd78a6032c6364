"""`python -m engine import-history --pmxt-from DATE --pmxt-to DATE --market …` against a local HTTP
server laid out as the archive is (`/polymarket_orderbook_YYYY-MM-DDTHH.parquet` under a v2 host and a
v1 host, Range requests, an MD5 ETag): v2 where it has the hour, v1 before, the hour before the range
fetched too, an interrupted download resumed, a corrupt file refused and deleted, the cache bounded,
a second run fetching nothing."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.venues.polymarket import pmxt_fetch
from engine.venues.polymarket.pmxt import PmxtError
from tests.helpers import run_cli
from tests.local_http import serving
from tests.marketdata.test_pmxt_as_it_was import _row
from tests.marketdata.test_pmxt_import import CID, T0, YES, _v2_file, desk  # noqa: F401

HOUR = "polymarket_orderbook_2026-04-17T{:02d}.parquet"


class Archive(ThreadingHTTPServer):
    files: dict[str, bytes]  # "/v2/NAME" -> bytes
    cut_once: set[str]  # paths whose first answer stops half-way
    ranges: list[str]
    corrupt_etag: set[str]


class Handler(BaseHTTPRequestHandler):
    server: Archive

    def log_message(self, *args: Any) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802  (the standard library's name)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        wanted = self.headers.get("Range")
        if wanted:
            self.server.ranges.append(f"{self.path} {wanted}")
            start = int(wanted.removeprefix("bytes=").split("-")[0])
        etag = hashlib.md5(body).hexdigest() if self.path not in self.server.corrupt_etag else "0" * 32
        self.send_response(206 if start else 200)
        self.send_header("ETag", f'"{etag}"')
        self.send_header("Content-Length", str(len(body) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if self.path in self.server.cut_once:
            self.server.cut_once.discard(self.path)
            self.wfile.write(body[start:len(body) // 2])  # the connection drops half-way
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture
def archive() -> Iterator[Archive]:
    with serving(Archive, Handler) as server:
        server.files, server.cut_once, server.ranges, server.corrupt_etag = {}, set(), [], set()
        yield server


def _hour_bytes(tmp: Path, hour: int, *, v1: bool = False, padded: bool = False) -> bytes:
    """One hour's file in the archive's layout: a book at its start, a change a minute in (v1: JSON
    in `data`; v2: typed columns), with padding rows of another market so the file has some size."""
    at = T0 + timedelta(hours=hour - 12)
    path = tmp / f"h{hour}.parquet"
    if v1:
        def row(s: int, kind: str, **data: Any) -> dict[str, Any]:
            return {"timestamp_received": at + timedelta(seconds=s), "timestamp_created_at": at, "market_id": CID,
                    "update_type": kind, "data": json.dumps({"token_id": YES, **data})}
        table = pa.Table.from_pylist([row(0, "book_snapshot", bids=[{"price": "0.40", "size": "10"}], asks=[]),
                                      row(60, "price_change", change_price="0.41", change_size="3",
                                          change_side="BUY")])
        pq.write_table(table, path)
    else:
        base = (hour - 12) * 3600
        other = [_row(base + 1, "last_trade_price", "9", market=b"0x" + b"11" * 32, price=Decimal("0.5"),
                      size=Decimal("1"), side="BUY", transaction_hash=os.urandom(32).hex())
                 for _ in range(60_000 if padded else 0)]  # another market's prints: a file of a few MB
        _v2_file(path, [*other, _row(base, "book", bids='[["0.48", "100"]]', asks='[["0.52", "100"]]'),
                        _row(base + 60, "price_change", price=Decimal("0.49"), size=Decimal("5"), side="BUY")],
                 row_group_size=10_000)  # (in groups of 4 rows, as the small files, it was 48 MB: 9 s to write)
    return path.read_bytes()


def _fetch(env: dict[str, str], server: Archive, markets: Path, *more: str) -> Any:
    port = server.server_address[1]
    env = {**env, "PMXT_V2_URL": f"http://127.0.0.1:{port}/v2", "PMXT_V1_URL": f"http://127.0.0.1:{port}/v1"}
    return run_cli(["import-history", "--pmxt-from", "2026-04-17T12:00", "--pmxt-to", "2026-04-17T13:59",
                    "--market", CID, "--markets-file", str(markets), *more], env, timeout=120)


def test_the_hours_a_range_needs_are_fetched_resumed_verified_and_cached(desk: Any, tmp_path: Path,
                                                                          archive: Archive) -> None:
    env, db, markets = desk
    archive.files = {f"/v1/{HOUR.format(11)}": _hour_bytes(tmp_path, 11, v1=True),  # before v2 had the hour
                     f"/v2/{HOUR.format(12)}": _hour_bytes(tmp_path, 12),
                     f"/v2/{HOUR.format(13)}": _hour_bytes(tmp_path, 13, padded=True)}
    archive.cut_once = {f"/v2/{HOUR.format(13)}"}
    cut = _fetch(env, archive, markets)
    assert cut.returncode != 0 and "Traceback" not in cut.stderr, cut.stderr
    assert "run the same command again to resume it" in cut.stderr
    cache = Path(env["TRADER_DB"]).parent / "pmxt-cache"
    assert (cache / (HOUR.format(13) + ".part")).is_file()  # the half it got, kept
    done = _fetch(env, archive, markets, "--name", "fetched")
    assert done.returncode == 0, done.stderr
    assert any(r.startswith(f"/v2/{HOUR.format(13)} bytes=") and not r.endswith("=0-") for r in archive.ranges)
    report = json.loads(done.stdout)
    assert report["fetched"]["resumed"] == 1 and report["fetched"]["hours"] == 3
    assert report["layouts"] == ["v1", "v2"] and report["files"] == 3  # the hour before came from v1
    assert "fetched and verified" in done.stderr  # progress
    again = _fetch(env, archive, markets, "--name", "again")
    assert again.returncode != 0 and "already has" in again.stderr  # the same span: refused, not mixed
    assert "fetched and verified" not in again.stderr  # every hour came from the cache


def test_a_corrupt_download_is_deleted_and_the_cache_stays_bounded(desk: Any, tmp_path: Path,
                                                                   archive: Archive) -> None:
    env, db, markets = desk
    archive.files = {f"/v2/{HOUR.format(h)}": _hour_bytes(tmp_path, h) for h in (11, 12, 13)}
    archive.corrupt_etag = {f"/v2/{HOUR.format(12)}"}
    bad = _fetch(env, archive, markets)
    assert bad.returncode != 0 and "MD5 differs from the server's ETag" in bad.stderr
    cache = Path(env["TRADER_DB"]).parent / "pmxt-cache"
    assert not (cache / HOUR.format(12)).exists()  # deleted, never imported
    stale = cache / "polymarket_orderbook_2026-01-01T00.parquet"
    stale.write_bytes(b"PAR1" + b"\0" * 20_000 + b"PAR1")  # an old hour nobody needs now
    archive.corrupt_etag = set()
    size = sum(len(b) for b in archive.files.values())
    done = _fetch(env, archive, markets, "--cache-gb", str((size + 5_000) / 1e9))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fetched"]["evicted"] == 1 and not stale.exists()


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1969-12-31"])
def test_a_date_no_archive_hour_can_have_is_refused_in_words(date: str) -> None:
    with pytest.raises(PmxtError, match="a date between 1970 and 2100"):
        pmxt_fetch.day_start(date)

