"""The engine log's tail (pure: no streamlit): the last lines of a JSON-lines file, read from
its end so a 20 MB log costs the same as a small one; secrets are masked again on the way."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.logs import RedactingFilter  # stdlib only: this module stays free of streamlit

CHUNK = 64 * 1024
MAX_BYTES = 2 * 1024 * 1024
LOG_ENV = "ENGINE_LOG_FILE"  # where supervisord writes it, when not <project>/var/log/engine.log


def engine_log_path(root: Path) -> Path:
    override = os.environ.get(LOG_ENV)
    return Path(override) if override else root / "var" / "log" / "engine.log"


def tail(path: Path, lines: int = 200) -> list[str] | None:
    """The last `lines` lines (oldest first), or None when the file does not exist."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None
    with handle:
        handle.seek(0, os.SEEK_END)
        end = position = handle.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= lines and end - position < MAX_BYTES:
            position = max(0, position - CHUNK)
            handle.seek(position)
            data = handle.read(end - position)
    text = data.decode("utf-8", errors="replace").splitlines()
    if position > 0 and text:
        text = text[1:]  # the first line was cut by the chunk boundary
    return text[-lines:]


def mask(lines: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """The engine's own redactor (configured values and anything shaped like an API secret), so
    the page can never show less redaction than the log file was meant to have."""
    redactor = RedactingFilter(secrets)
    return [redactor.redact(line) for line in lines]


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
