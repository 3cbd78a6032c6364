"""Fetching the PMXT archive's hours a range needs, into a bounded cache beside the database.

The archive publishes one Parquet file per UTC hour, `polymarket_orderbook_YYYY-MM-DDTHH.parquet`,
under two hosts: v2 (from 2026-04-13, every live market with trades) and v1 before it. Each hour
is asked of v2 first and of v1 when v2 has no such file (404). The hour before the range comes
too, so every book is known from the range's start (a change before its token's first snapshot
cannot be applied).

- Resume: a download goes to `NAME.part` and an interrupted one continues from its last byte (an
  HTTP Range request); a verified file in the cache is never fetched again.
- Verify: the size the server announced, the Parquet magic at both ends and a readable footer, and
  the MD5 when the server's ETag is one (a single-part object's ETag is its MD5); a file that fails
  is deleted and the fetch stops, in words.
- Bounded cache: before each download, the least recently used files not needed now are removed
  until the cache and the file fit under the bound.
- Progress: a line on stderr per file and as bytes arrive.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from engine.venues.polymarket.pmxt import HOUR_MS, PmxtError, hour_name
from storage.research.session_files import LATEST_TIME

V1_URL = "https://r2.pmxt.dev"
V2_URL = "https://r2v2.pmxt.dev"
MAX_HOURS = 24 * 31  # a month of hours a fetch (100-450 MB each)
CHUNK = 1 << 20
MD5 = re.compile(r'^"?([0-9a-f]{32})"?$')
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Archive:
    v2_url: str = V2_URL
    v1_url: str = V1_URL
    timeout_s: float = 60.0


@dataclass
class FetchReport:
    hours: int = 0
    downloaded: int = 0
    cached: int = 0
    resumed: int = 0
    bytes: int = 0
    evicted: int = 0
    versions: dict[str, int] = field(default_factory=lambda: {"v1": 0, "v2": 0})  # hours fetched from each

    def as_dict(self) -> dict[str, object]:
        return {"hours": self.hours, "downloaded": self.downloaded, "from_cache": self.cached,
                "resumed": self.resumed, "bytes": self.bytes, "evicted": self.evicted, "versions": self.versions}


def hours_for(start_ms: int, end_ms: int) -> list[int]:
    """The hours (epoch ms of each start) covering [start, end], and the hour before the start."""
    if end_ms < start_ms:
        raise PmxtError("--pmxt-to must not be before --pmxt-from")
    first = start_ms - start_ms % HOUR_MS - HOUR_MS
    hours = list(range(first, end_ms + 1, HOUR_MS))
    if len(hours) > MAX_HOURS + 1:
        raise PmxtError(f"{len(hours) - 1:,} hours asked: fetch at most {MAX_HOURS} hours (a month) at a time; the "
                        "cache keeps what was fetched, so the next stretch starts where this one ended")
    return hours


def fetch_hours(hours: list[int], cache: Path, archive: Archive, *, cache_bytes: int,
                progress: Progress | None = None) -> tuple[list[Path], FetchReport]:
    """The verified files of `hours` in the cache (fetched where missing), in hour order."""
    cache.mkdir(parents=True, exist_ok=True)
    report = FetchReport(hours=len(hours))
    names = [hour_name(h) for h in hours]
    files = []
    with httpx.Client(timeout=archive.timeout_s, follow_redirects=True) as client:
        for name in names:
            path = cache / name
            if path.is_file() and _readable(path):
                path.touch()  # recently used: the last to be evicted
                report.cached += 1
            else:
                version = _download(client, archive, name, cache, set(names), cache_bytes, report, progress)
                report.versions[version] += 1
            files.append(path)
    return files, report


def _download(client: httpx.Client, archive: Archive, name: str, cache: Path, needed: set[str], cache_bytes: int,
              report: FetchReport, progress: Progress | None) -> str:
    for version, base in (("v2", archive.v2_url), ("v1", archive.v1_url)):
        url = f"{base.rstrip('/')}/{name}"
        try:
            if _get(client, url, cache / name, needed, cache_bytes, report, progress):
                return version
        except httpx.HTTPError as exc:
            raise PmxtError(f"{name}: the download from {url} stopped ({str(exc)[:200] or type(exc).__name__}); "
                            "run the same command again to resume it") from None
    raise PmxtError(f"{name}: the archive has no such hour (neither v2 nor v1): the range may start before the "
                    "archive (v1 begins 2026-02-21) or an hour is missing; import the hours it has with --pmxt FOLDER")


def _get(client: httpx.Client, url: str, path: Path, needed: set[str], cache_bytes: int, report: FetchReport,
         progress: Progress | None) -> bool:
    """Download `url` into `path` (resuming its .part); False when the server has no such file."""
    part = path.with_name(path.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with client.stream("GET", url, headers=headers) as answer:
        if answer.status_code == 404:
            return False
        if answer.status_code == 416 and have:  # the .part is already whole
            part.replace(path)
            _verify(path, None, None)
            return True
        answer.raise_for_status()
        resumed = answer.status_code == 206
        if not resumed:
            have = 0
        total = _total(answer, have)
        _make_room(path.parent, needed, cache_bytes, (total or 0) - have, report)
        report.resumed += int(resumed)
        with part.open("ab" if resumed else "wb") as out:
            written = have
            for i, chunk in enumerate(answer.iter_bytes(CHUNK)):
                out.write(chunk)
                written += len(chunk)
                report.bytes += len(chunk)
                if progress is not None and i % 16 == 0:  # a line every 16 MB
                    progress(f"pmxt: {path.name} {written / 1e6:,.1f}" + (f" of {total / 1e6:,.1f}" if total else "")
                             + " MB")
    part.replace(path)
    _verify(path, total, answer.headers.get("etag"))
    report.downloaded += 1
    if progress is not None:
        progress(f"pmxt: {path.name} fetched and verified ({written / 1e6:,.1f} MB)")
    return True


def _total(answer: httpx.Response, have: int) -> int | None:
    if answer.status_code == 206:
        found = re.search(r"/(\d+)$", answer.headers.get("content-range", ""))
        return int(found.group(1)) if found else None
    length = answer.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


def _verify(path: Path, total: int | None, etag: str | None) -> None:
    """The whole file as the server announced it, and a Parquet file; else deleted, in words."""
    size = path.stat().st_size
    problem = ""
    if total is not None and size != total:
        problem = f"{size:,} bytes where the server announced {total:,}"
    elif not _readable(path):
        problem = "not a readable Parquet file (its magic or footer is wrong)"
    elif etag and (md5 := MD5.match(etag.strip().lower())) and _md5(path) != md5.group(1):
        problem = "its MD5 differs from the server's ETag"
    if problem:
        path.unlink(missing_ok=True)
        raise PmxtError(f"{path.name}: {problem}; it was deleted, run the command again to fetch it afresh")


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as raw:
            head = raw.read(4)
            raw.seek(-4, 2)
            tail = raw.read(4)
        if head != b"PAR1" or tail != b"PAR1":
            return False
        pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return False
    return True


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as raw:
        while block := raw.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _make_room(cache: Path, needed: set[str], cache_bytes: int, incoming: int, report: FetchReport) -> None:
    """Remove the least recently used cached hours not needed now until `incoming` more bytes fit."""
    kept = [p for p in cache.glob("*.parquet") if p.is_file()]
    used = sum(p.stat().st_size for p in kept) + sum(p.stat().st_size for p in cache.glob("*.part"))
    for path in sorted((p for p in kept if p.name not in needed), key=lambda p: p.stat().st_mtime):
        if used + incoming <= cache_bytes:
            return
        used -= path.stat().st_size
        path.unlink(missing_ok=True)
        report.evicted += 1


def day_start(raw: str) -> int:
    """A DATE (YYYY-MM-DD) or an ISO time in UTC, as epoch ms."""
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PmxtError(f"{raw!r}: a date (2026-04-17) or a UTC time (2026-04-17T12:00)") from None
    at = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)
    if not HOUR_MS <= at <= LATEST_TIME:  # (the hour before it is fetched too, and named by its date)
        raise PmxtError(f"{raw!r}: a date between 1970 and 2100 (the archive's hours are of 2026 on)")
    return at


def day_end(raw: str) -> int:
    """The end of a DATE (its last ms), or the ISO time itself."""
    start = day_start(raw)
    return start + int(timedelta(days=1).total_seconds() * 1000) - 1 if len(raw.strip()) == 10 else start


def print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
