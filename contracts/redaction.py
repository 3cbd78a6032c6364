"""Hiding secrets in log records: every configured secret value, and anything shaped like an
API secret, becomes ***. The engine's logging and the dashboard's log tail use the same
filter, so a line never shows there what the engine would not write."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "***"
# The url-safe base64 of 32 bytes: the shape of a Polymarket API secret. (Private keys are
# hex like order ids and condition ids, so those are redacted by exact value only.)
_KEYLIKE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}=")
STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


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
            if key not in STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
