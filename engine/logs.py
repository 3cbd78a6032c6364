"""Structured logging to stdout (supervisord rotates it), with secrets redacted.

Each record is one JSON object per line. The redaction filter replaces every configured
secret value, and anything shaped like a private key or an API secret, before a record
reaches any handler, including third-party libraries' records.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from typing import TextIO

from contracts.redaction import STANDARD_ATTRS, RedactingFilter


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, default=str)


_redactor = RedactingFilter(())


def register_secrets(*values: str) -> None:
    """Hide these values from every log line from now on."""
    _redactor.add(values)


def configure_logging(level: str, secrets: Iterable[str], stream: TextIO | None = None) -> RedactingFilter:
    """Route every logger to stdout (or `stream`: the MCP server's stdout is the protocol's) as
    JSON lines, redacting `secrets`."""
    handler = logging.StreamHandler(stream or sys.stdout)
    redactor = _redactor
    redactor.add(secrets)
    handler.addFilter(redactor)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "websockets", "apscheduler", "hpack", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redactor
