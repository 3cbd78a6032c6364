"""Parsing JSON that someone else wrote, without letting it crash the process.

Two guards, for both processes:
- The interpreter's recursion limit stays sane. `py_ecc` (imported with the signing stack)
  raises it to 100 000, and CPython's C JSON decoder then overflows the C stack on ~100 k
  nested brackets instead of raising RecursionError: a segfault from one hostile message.
  `keep_recursion_limit_sane()` runs once every heavy import is done (engine start-up, the
  dashboard's app).
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


def keep_recursion_limit_sane() -> None:
    if sys.getrecursionlimit() > SANE_RECURSION_LIMIT:
        sys.setrecursionlimit(SANE_RECURSION_LIMIT)


def loads_bounded(text: str | bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH, what: str = "JSON") -> Any:
    size = len(text)
    if size > max_bytes:
        raise JsonRefused(f"{what} is too large ({size:,} bytes; at most {max_bytes:,})")
    if _nesting(text) > max_depth:
        raise JsonRefused(f"{what} is nested too deeply (at most {max_depth} levels)")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except JsonRefused as exc:
        raise JsonRefused(f"{what} {exc}") from None
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"{what} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except (RecursionError, ValueError) as exc:
        raise JsonRefused(f"{what} is not valid JSON ({exc})") from None


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"holds {name}, which is not a number JSON allows")


def _nesting(text: str | bytes) -> int:
    """An upper bound of the bracket nesting (brackets inside strings count too: a string full
    of brackets is refused as deep, which errs on the safe side). Cheap: no parse, and it
    stops at the first level past any depth worth parsing."""
    raw = text.encode() if isinstance(text, str) else text
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for byte in raw:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > 10 * MAX_DEPTH:
                    break
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


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
