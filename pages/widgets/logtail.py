"""The engine log's tail (pure: no streamlit): the last lines of a JSON-lines file, read from
its end so a 20 MB log costs the same as a small one; secrets are masked again on the way."""

from __future__ import annotations

from collections.abc import Iterable

from contracts.log_format import LOG_ENV as LOG_ENV  # the reading itself is shared with `engine tail`
from contracts.log_format import engine_log_path as engine_log_path
from contracts.log_format import parse as parse
from contracts.log_format import tail as tail
from contracts.redaction import RedactingFilter  # stdlib only: this module stays free of streamlit


def mask(lines: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """The engine's own redactor (configured values and anything shaped like an API secret), so
    the page can never show less redaction than the log file was meant to have."""
    redactor = RedactingFilter(secrets)
    return [redactor.redact(line) for line in lines]
