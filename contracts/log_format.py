"""Reading the engine's JSON-lines log back: where it is, its last lines (read from the end, so a
20 MB log costs the same as a small one), one line as fields, one line as readable text, and
following it as it grows (supervisord rotates it: a new file under the same name is picked up).

Standard library only: `python -m engine tail` and the dashboard's Audit page both use it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 64 * 1024
MAX_BYTES = 2 * 1024 * 1024
LOG_ENV = "ENGINE_LOG_FILE"  # where supervisord writes it, when not <project>/var/log/engine.log
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def engine_log_path(root: Path) -> Path:
    override = os.environ.get(LOG_ENV)
    return Path(override) if override else root / "var" / "log" / "engine.log"


def tail(path: Path, lines: int = 200, *, end: int | None = None) -> list[str] | None:
    """The last `lines` lines (oldest first) before byte `end` (default: the end of the file),
    or None when the file does not exist."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None
    with handle:
        handle.seek(0, os.SEEK_END)
        end = position = handle.tell() if end is None else min(end, handle.tell())
        data = b""
        while position > 0 and data.count(b"\n") <= lines and end - position < MAX_BYTES:
            position = max(0, position - CHUNK)
            handle.seek(position)
            data = handle.read(end - position)
    text = data.decode("utf-8", errors="replace").splitlines()
    if position > 0 and text:
        text = text[1:]  # the first line was cut by the chunk boundary
    return text[-lines:] if lines > 0 else []


def parse(line: str) -> dict[str, Any]:
    """One JSON log line as ts/level/logger/msg (+ the rest as detail); plain text kept as msg."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        return {"ts": "", "level": "", "logger": "", "msg": line, "detail": ""}
    known = {k: str(record.pop(k, "")) for k in ("ts", "level", "logger", "msg")}
    return {**known, "detail": json.dumps(record, default=str) if record else ""}


def readable(line: str) -> str:
    """`2026-11-20T14:03:11.123Z WARNING engine.trading.core  tick failed  error=... (trace below)`."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return line
    if not isinstance(record, dict):
        return line
    head = " ".join(str(record.pop(k, "")) for k in ("ts", "level", "logger"))
    message = str(record.pop("msg", ""))
    trace = record.pop("exc", None) or record.pop("trace", None)
    extra = "  ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, default=str)}" for k, v in record.items())
    text = f"{head}  {message}" + (f"  {extra}" if extra else "")
    return text + (f"\n{trace}" if trace else "")


def level_at_least(line: str, minimum: str) -> bool:
    """Whether a line's level is `minimum` or worse (lines that are not JSON always pass)."""
    try:
        level = json.loads(line).get("level")
    except (json.JSONDecodeError, AttributeError):
        return True
    if level not in LEVELS:
        return True
    return LEVELS.index(level) >= LEVELS.index(minimum)


def follow(path: Path, *, offset: int | None = None, poll_s: float = 0.25,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[str]:
    """Lines appended to `path` after `offset` (default: its end now), forever. Waits for the
    file to appear; after a rotation (a new file under the name, or the file cut shorter) reads
    the new one from its start. A line still being written is held back until its newline."""
    handle, identity = _open(path, offset)
    pending = b""
    while True:
        if handle is None:
            sleep(poll_s)
            handle, identity = _open(path, 0)  # it appeared after we started: all of it is new
            continue
        chunk = handle.read(CHUNK)
        if chunk:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                yield raw.decode("utf-8", errors="replace")
            continue
        if _rotated(path, identity, handle.tell()):
            handle.close()
            handle, identity = _open(path, 0)
            pending = b""
            continue
        sleep(poll_s)


def _open(path: Path, offset: int | None) -> tuple[BinaryIO | None, tuple[int, int] | None]:
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None, None
    stat = os.fstat(handle.fileno())
    handle.seek(stat.st_size if offset is None else min(offset, stat.st_size))
    return handle, (stat.st_dev, stat.st_ino)


def _rotated(path: Path, identity: tuple[int, int] | None, position: int) -> bool:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False  # mid-rotation: keep reading the old file until the new one appears
    return (stat.st_dev, stat.st_ino) != identity or stat.st_size < position
