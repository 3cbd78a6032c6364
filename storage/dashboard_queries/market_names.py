"""Markets named by their question where a person reads them: alert messages on the pages, in
`status` and in delivered notifications, the risk gate's decision details and the audit trail (named_frames.py).
The engine writes condition ids into its messages (the id is what it knows, and what a search
finds); before a person reads one, each id (whole, or a prefix of 10+ hex digits cut with "…")
that names exactly one stored market becomes its question, shortened, with the id's start kept
after it so it can still be looked up.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable

QUESTION_CHARS = 60
CONDITION_REF = re.compile(r"0x[0-9a-fA-F]{10,64}…?")
Lookup = Callable[[str], list[str]]  # an id or a prefix -> the questions of the markets it names


def short_question(question: str) -> str:
    text = " ".join(question.split())
    return text if len(text) <= QUESTION_CHARS else text[: QUESTION_CHARS - 1].rstrip() + "…"


def name_markets(messages: Iterable[str], lookup: Lookup) -> list[str]:
    """Each message with the market ids it names replaced by “question” (0x1234ab…)."""
    cache: dict[str, str | None] = {}

    def named(match: re.Match[str]) -> str:
        ref = match.group(0)
        prefix = ref.rstrip("…").lower()
        if prefix not in cache:
            found = lookup(prefix)
            cache[prefix] = found[0] if len(found) == 1 else None
        question = cache[prefix]
        return ref if question is None else f"“{short_question(question)}” ({prefix[:8]}…)"

    return [CONDITION_REF.sub(named, message) for message in messages]


def sqlite_lookup(conn: sqlite3.Connection) -> Lookup:
    """Questions by condition id or its prefix, read with the standard library's sqlite3."""
    def lookup(prefix: str) -> list[str]:
        full = len(prefix) == 66
        sql = ("SELECT question FROM markets WHERE lower(condition_id) = ? LIMIT 2" if full else
               "SELECT question FROM markets WHERE lower(condition_id) >= ? AND lower(condition_id) < ? LIMIT 2")
        params = (prefix,) if full else (prefix, prefix + "g")  # 'g' sorts after every hex digit
        return [str(q) for (q,) in conn.execute(sql, params).fetchall() if q]
    return lookup

