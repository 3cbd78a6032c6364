"""Structured logging to stdout (supervisord rotates it), with secrets redacted.

Each record is one JSON object per line. The redaction filter replaces every configured
secret value, and anything shaped like a private key or an API secret, before a record
reaches any handler, including third-party libraries' records.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable

REDACTED = "***"
# The url-safe base64 of 32 bytes: the shape of a Polymarket API secret. (Private keys are
# hex like order ids and condition ids, so those are redacted by exact value only.)
_KEYLIKE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}=")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more values to hide (e.g. API creds derived at run time)."""
        merged = set(self.secrets) | {s for s in secrets if s and len(s) >= 6}
        self.secrets = sorted(merged, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _KEYLIKE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


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
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, default=str)


_redactor = RedactingFilter(())


def register_secrets(*values: str) -> None:
    """Hide these values from every log line from now on."""
    _redactor.add(values)


def configure_logging(level: str, secrets: Iterable[str]) -> RedactingFilter:
    """Route every logger to stdout as JSON lines, redacting `secrets`."""
    handler = logging.StreamHandler(sys.stdout)
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
