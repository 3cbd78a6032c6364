"""Parsing JSON that someone else wrote, without letting it crash the process.

Two guards, for both processes:
- The interpreter's recursion limit stays sane. `py_ecc` (imported with the signing stack)
  raises it to 100 000, and CPython's C JSON decoder then overflows the C stack on ~100 k
  nested brackets instead of raising RecursionError: a segfault from one hostile message.
  `keep_recursion_limit_sane()` runs once every heavy import is done (engine start-up, the
  dashboard's app) and as the live venue's module finishes importing (a paper desk or a
  backtest never imports it; a live executor imports it when it is built).
- Every JSON from outside (commands, configuration, feeds, signals) is parsed by
  `loads_bounded`, which refuses it above a size, or deeper than a nesting depth, with a
  `JsonRefused` (a ValueError) whose message says which: never a traceback, never a hang.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SANE_RECURSION_LIMIT = 2_000
COMMAND_BYTES = 64 * 1024  # an operator command's payload
CONFIG_BYTES = 64 * 1024  # one strategy's params or market filter, one setting
FEED_BYTES = 4 * 1024 * 1024  # one WebSocket frame from a feed (a full book is well under this)
MAX_DEPTH = 32


class JsonRefused(ValueError):
    """Not JSON we accept: malformed, too big or too deep. The message says which."""


class JsonBeyondBounds(JsonRefused):
    """Too big or too deep: perhaps JSON, but more than the reader takes (not merely malformed)."""


def keep_recursion_limit_sane() -> None:
    if sys.getrecursionlimit() > SANE_RECURSION_LIMIT:
        sys.setrecursionlimit(SANE_RECURSION_LIMIT)


def loads_bounded(text: str | bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH, what: str = "JSON") -> Any:
    size = len(text)
    if size > max_bytes:
        raise JsonBeyondBounds(f"{what} is too large ({size:,} bytes; at most {max_bytes:,})")
    # With no more opening brackets than max_depth it cannot be too deep (two scans in C, no
    # copy: most feed frames stop here); otherwise the brackets alone are peeled, also in C.
    if _opening_brackets(text) > max_depth:
        raw = text.encode() if isinstance(text, str) else text
        if _nesting(raw.translate(None, _NOT_BRACKETS), max_depth) > max_depth:
            raise JsonBeyondBounds(f"{what} is nested too deeply (at most {max_depth} levels)")
    try:
        if isinstance(text, str):
            return _decode(text)
        return json.loads(text, parse_constant=_no_constant)
    except JsonRefused as exc:
        raise JsonRefused(f"{what} {exc}") from None
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"{what} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except (RecursionError, ValueError) as exc:
        raise JsonRefused(f"{what} is not valid JSON ({exc})") from None


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"holds {name}, which is not a number JSON allows")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # one for every call: feeds parse on the hot path


def _decode(text: str) -> Any:
    """`_DECODER.decode` without its two whitespace regexes when there is no whitespace around
    the document (every feed frame): the depth check's cost on the hot path, paid back."""
    if text[:1].isspace() or text[-1:].isspace():
        return _DECODER.decode(text)
    value, end = _DECODER.raw_decode(text)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _opening_brackets(text: str | bytes) -> int:
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def _nesting(brackets: bytes, max_depth: int) -> int:
    """The nesting of a document's brackets (nothing else), exact up to `max_depth` (anything
    deeper reads as max_depth + 1). Brackets inside strings count too: a string full of them
    may be refused as deep, which errs on the safe side. Cheap enough for every feed frame, all
    in C: each pass peels the innermost pairs (marked first, so a pair that only forms once
    they are gone waits for the next pass)."""
    rest = brackets
    for depth in range(max_depth + 1):
        if not rest:
            return depth
        peeled = rest.replace(b"[]", b".").replace(b"{}", b".").replace(b".", b"")
        if len(peeled) == len(rest):  # unbalanced (brackets inside strings, or not JSON): scan
            return _scan(brackets, max_depth)
        rest = peeled
    return max_depth + 1


def _scan(brackets: bytes, max_depth: int) -> int:
    depth = deepest = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > max_depth:
                    break
        else:
            depth -= 1
    return deepest


PREVIEW_CHARS = 200


def preview(raw: str) -> str:
    """A stored text as a page or an audit row shows it: at most PREVIEW_CHARS characters."""
    return raw if len(raw) <= PREVIEW_CHARS else f"{raw[:PREVIEW_CHARS]}… ({len(raw):,} characters)"


def read_stored(raw: Any, *, max_bytes: int = CONFIG_BYTES,
                what: str = "the stored value") -> tuple[Any, str | None]:
    """JSON read back from the database, where a script, an old version or a hand edit may have
    written anything: (the value, None), or (None, why it cannot be read). Bounded like any JSON
    from outside, and it never raises: a page shows the reason and renders the rest."""
    if raw is None:
        return None, None
    if not isinstance(raw, (str, bytes)):
        return None, f"{what} is not text"
    try:
        return loads_bounded(raw, max_bytes=max_bytes, what=what), None
    except JsonRefused as exc:
        return None, str(exc)


def depth_of(value: Any) -> int:
    """The nesting depth of a parsed value (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest
