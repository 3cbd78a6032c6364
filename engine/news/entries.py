"""A fetched feed parsed into entries, and entries matched against rules.

feedparser reads RSS 0.9x–2.0, RSS 1.0 and Atom and copes with malformed feeds; it is handed the
downloaded bytes as a stream, so it never fetches anything itself. At most MAX_ENTRIES entries are
read from a feed (the newest come first in practice), and each entry's text is cut to MAX_TEXT
characters, with markup dropped, before any rule sees it. Patterns run with a time limit; one
that runs out on an entry does not match it and is reported. A character reference no text can
hold (a lone surrogate such as `&#xD800;`, which made feedparser raise on the whole feed) is read
as U+FFFD before parsing, and an entry that cannot be read is counted and left out, never the
feed's other entries with it.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import feedparser

from contracts.news import MATCH_TIMEOUT_S, NewsRule

MAX_ENTRIES = 200
MAX_TEXT = 4_000
MAX_TITLE = 300
_TAGS = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"\s+")
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")


class ParseError(Exception):
    """Not a feed; the message says what the parser found."""


@dataclass(frozen=True)
class Entry:
    key: str  # the entry's id (or link, or a digest of its text): how it is recognised next time
    title: str
    text: str  # title and summary, markup dropped, bounded: what rules match against
    link: str | None
    published_ms: int | None


@dataclass
class Matching:
    """A feed's rules, compiled once, and the problems met while matching (for the feed's status)."""

    rules: Sequence[NewsRule]
    patterns: list[Any] = field(init=False)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.patterns = [rule.compiled() for rule in self.rules]

    def rules_for(self, entry: Entry) -> list[NewsRule]:
        lowered = entry.text.casefold()
        matched = []
        for rule, pattern in zip(self.rules, self.patterns, strict=True):
            if any(keyword.casefold() in lowered for keyword in rule.keywords):
                matched.append(rule)
            elif pattern is not None and self._search(rule, pattern, entry):
                matched.append(rule)
        return matched

    def _search(self, rule: NewsRule, pattern: Any, entry: Entry) -> bool:
        try:
            return pattern.search(entry.text, timeout=MATCH_TIMEOUT_S) is not None
        except TimeoutError:
            self.problems.append(f"rule {rule.signal}: its pattern ran out of time on {entry.title[:60]!r}")
            return False


@dataclass(frozen=True)
class Parsed:
    entries: list[Entry]
    refused: int = 0  # entries that could not be read, left out
    why: str | None = None  # why the first was


def parse(body: bytes) -> list[Entry]:
    return parse_counted(body).entries


def parse_counted(body: bytes) -> Parsed:
    try:
        parsed = feedparser.parse(io.BytesIO(_CHARREF.sub(_text_char, body)))
    except Exception as exc:  # feedparser's own failure on a body it could not cope with
        raise ParseError(f"not a feed this desk can read ({type(exc).__name__}: {str(exc)[:150]})") from None
    raw_entries = parsed.get("entries") or []
    if not raw_entries and parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        raise ParseError(f"not an RSS or Atom feed ({type(problem).__name__}: {str(problem)[:150]})")
    entries: list[Entry] = []
    refused, why = 0, None
    for raw in raw_entries[:MAX_ENTRIES]:
        try:
            entry = _entry(raw)
        except Exception as exc:  # one entry the desk cannot read: left out, the others kept
            refused += 1
            why = why or f"{type(exc).__name__}: {str(exc)[:150]}"
            continue
        if entry is not None:
            entries.append(entry)
    return Parsed(entries, refused, why)


def _text_char(ref: re.Match[bytes]) -> bytes:
    """A numeric character reference as it is, or U+FFFD's when no text can hold its character."""
    code = int(ref[1], 16) if ref[1] is not None else int(ref[2])
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return ref[0]


def _entry(raw: Any) -> Entry | None:
    title = _plain(raw.get("title") or "")[:MAX_TITLE]
    summary = _plain(raw.get("summary") or raw.get("description") or "")
    text = f"{title}\n{summary}"[:MAX_TEXT]
    if not text.strip():
        return None
    link = raw.get("link") if isinstance(raw.get("link"), str) else None
    ident = raw.get("id") if isinstance(raw.get("id"), str) else None
    key = (ident or link or "")[:500] or hashlib.sha256(text.encode()).hexdigest()
    return Entry(key, title or summary[:MAX_TITLE], text, link[:1000] if link else None, _published(raw))


def _plain(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    plain = _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", text[: MAX_TEXT * 4]))).strip()
    return plain.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")  # storable text, always


def _published(raw: Any) -> int | None:
    for key in ("published_parsed", "updated_parsed"):
        moment = raw.get(key)
        if moment is not None:
            try:
                return calendar.timegm(moment) * 1000
            except (TypeError, ValueError, OverflowError):
                continue
    return None
