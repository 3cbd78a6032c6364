"""What a session file (storage/research/session_files.py) may hold, checked line by line before anything
of it is written: a file is someone else's, so each market of its header is checked field by
field as the venue's own would be (contracts/market_rows.py) and each tick as the
recorder writes it (engine/marketdata/recorder.py), and every JSON in it is bounded.

A tick is `[at, token_id, kind, side, price, size, mid, data]` in micro-units and ms:
- `book`: data = {"b": [[price, size], ...], "a": [...]}, nothing in side/price/size;
- `change`: one level in side (BUY: the bid side) / price / size (0 removes it), or several as
  data = [[is_bid, price, size], ...];
- `trade`: side / price / size (the taker's side); data, when the source gives them, the print's
  transaction hash and fee (`{"tx": "0x…", "fee_bps": 30}`);
- `decide`: a decision marker, token '' and nothing else.
Prices lie on the venue's finest grid (0.0001: a market's tick can change while it is
recorded) between 0 and 1, sizes are whole and not negative (above 0 for a trade or a book
level), a mid between 0 and 1.

Every refusal is a SessionError whose message names the line or market and what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.jsonsafe import JsonRefused, loads_bounded
from contracts.market_rows import import_problem
from contracts.resolutions import OUTCOMES, SOURCES, Resolution
from contracts.venue_rules import TICKS
from storage.research.recording_sessions import MAX_MARKETS, SessionError

KINDS = ("book", "change", "trade", "decide")
DATA_BYTES = 64 * 1024  # a tick's data: a book of depth 10 is about 400 bytes
LINE_BYTES = DATA_BYTES + 1024  # a tick's line: its data and the rest
MOST_LEVELS = 1_000
GRID = min(TICKS)
MOST_SIZE = 2**53
MICRO = 1_000_000  # a price of 1 in micro-units
# The columns a market row brings from a file: what the venue says of the market. What this desk
# observes itself (activity figures, a resolution, when it first saw it) is never taken from one.
IMPORTED_COLUMNS = ("condition_id", "gamma_id", "question", "slug", "yes_token", "no_token", "outcomes", "tick",
                    "min_size", "neg_risk", "neg_risk_market_id", "end_at", "active", "closed", "accepting_orders",
                    "tags", "gamma_version", "fee_rate_ppm", "fee_exponent", "fees_at", "tradable",
                    "untradable_reason")


def checked_market(raw: Any, index: int) -> dict[str, Any]:
    """A header market as this desk would store it (IMPORTED_COLUMNS only), or a SessionError."""
    if not isinstance(raw, Mapping):
        raise SessionError(f"market {index + 1} of the header is not an object")
    row = {column: raw[column] for column in IMPORTED_COLUMNS if raw.get(column) is not None}
    problem = import_problem(row)
    if problem is not None:
        cid = raw.get("condition_id")
        named = repr(cid[:80]) if isinstance(cid, str) else f"{index + 1}"
        raise SessionError(f"market {named} of the header is refused: {problem}")
    return row


def header_resolutions(raw: Any, markets: set[str]) -> list[Resolution]:
    """The header's `resolutions` (how its markets ended: storage/research/market_resolutions.py), each
    checked: one of the header's markets, once, a time in ms, an outcome, what a YES share paid (a
    `value`'s, or none), where its desk learnt it."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_MARKETS:
        raise SessionError(f"the header's resolutions are not a list of at most {MAX_MARKETS}")
    found: dict[str, Resolution] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or set(item) != {"market", "at", "outcome", "yes_pays", "source"}:
            raise SessionError(f"resolution {i + 1} of the header is not {{market, at, outcome, yes_pays, source}}")
        market, at, outcome, pays = item["market"], item["at"], item["outcome"], item["yes_pays"]
        if market not in markets or market in found:
            raise SessionError(f"resolution {i + 1} of the header is not of one of its markets, once")
        if type(at) is not int or not 0 <= at <= MOST_SIZE or outcome not in OUTCOMES or item["source"] not in SOURCES:
            raise SessionError(f"resolution {i + 1} of the header needs a time in ms, an outcome "
                               f"({', '.join(OUTCOMES)}) and a source ({', '.join(SOURCES)})")
        if pays is not None and (type(pays) is not int or outcome != "value" or not 0 <= pays <= MICRO):
            raise SessionError(f"resolution {i + 1} of the header: what a YES share paid is a value's, from 0 to "
                               f"{MICRO:,} micro-units")
        found[market] = Resolution(market, at, outcome, pays, item["source"])
    return list(found.values())


def checked_tick(raw: str, number: int, tokens: set[str], span: tuple[int, int]) -> dict[str, Any]:
    """Line `number` as a tick row, or a SessionError saying what is wrong with it."""
    try:  # the depth allows for the brackets of a book's data inside its string
        at, token, kind, side, price, size, mid, data = loads_bounded(raw, max_bytes=LINE_BYTES, max_depth=4,
                                                                      what="the line")
    except JsonRefused as exc:
        raise SessionError(f"line {number}: not a tick ({exc})") from None
    except (ValueError, TypeError):
        raise SessionError(f"line {number}: not a tick ([at, token_id, kind, side, price, size, mid, data])") from None
    if not _whole(at) or not span[0] <= at <= span[1]:
        raise SessionError(f"line {number}: its time is not a time inside the session's span")
    if kind not in KINDS:
        raise SessionError(f"line {number}: {str(kind)[:20]!r} is not a kind of tick ({', '.join(KINDS)})")
    if (token != "") if kind == "decide" else (token not in tokens):
        raise SessionError(f"line {number}: its token is not one of the session's markets'")
    if mid is not None and not (_whole(mid) and 0 <= mid <= MICRO):
        raise SessionError(f"line {number}: its mid is not a price between 0 and 1 in micro-units")
    problem = _SHAPES[kind](side, price, size, data)
    if problem is not None:
        raise SessionError(f"line {number}: a {kind} {problem}")
    if kind == "decide" and size is not None and size > at:
        raise SessionError(f"line {number}: a decide marker says its books were current since after its own time")
    return {"at": at, "token_id": token, "kind": kind, "side": side, "price": price, "size": size, "mid": mid,
            "data": data}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _price(value: Any) -> bool:
    return _whole(value) and 0 <= value <= MICRO and value % GRID == 0


def _size(value: Any, *, empty: bool) -> bool:
    return _whole(value) and (0 if empty else 1) <= value < MOST_SIZE


def _decoded(data: Any) -> Any:
    if not isinstance(data, str):
        return None
    try:
        return loads_bounded(data, max_bytes=DATA_BYTES, max_depth=3, what="its data")
    except JsonRefused:
        return None


def _book(side: Any, price: Any, size: Any, data: Any) -> str | None:
    if (side, price, size) != (None, None, None):
        return "has no side, price or size of its own (its levels are in data)"
    book = _decoded(data)
    if not isinstance(book, dict) or set(book) - {"b", "a"}:
        return 'has data that is not {"b": [[price, size], ...], "a": [...]}'
    for levels in book.values():
        if not isinstance(levels, list) or len(levels) > MOST_LEVELS or not all(
                isinstance(lv, list) and len(lv) == 2 and _price(lv[0]) and _size(lv[1], empty=False) for lv in levels):
            return f"has a level that is not [price on the grid, size above 0] (or more than {MOST_LEVELS})"
    return None


def _change(side: Any, price: Any, size: Any, data: Any) -> str | None:
    if data is None:
        ok = side in ("BUY", "SELL") and _price(price) and _size(size, empty=True)
        return None if ok else "is not one level: side BUY or SELL, a price on the grid, a size of 0 or more"
    if (side, price, size) != (None, None, None):
        return "has either one level or several in data, not both"
    levels = _decoded(data)
    if not isinstance(levels, list) or not 0 < len(levels) <= MOST_LEVELS or not all(
            isinstance(lv, list) and len(lv) == 3 and lv[0] in (0, 1) and not isinstance(lv[0], bool)
            and _price(lv[1]) and _size(lv[2], empty=True) for lv in levels):
        return "has data that is not [[is_bid, price on the grid, size of 0 or more], ...]"
    return None


def _trade(side: Any, price: Any, size: Any, data: Any) -> str | None:
    ok = side in ("BUY", "SELL") and _price(price) and 0 < price < MICRO and _size(size, empty=False)
    if not ok:
        return "is not side BUY or SELL, a price on the grid inside (0, 1) and a size above 0"
    return None if data is None or _print_identity(_decoded(data)) else \
        'has data that is not {"tx": its transaction hash, "fee_bps": the fee it paid (0 to 10,000)}'


def _print_identity(data: Any) -> bool:
    """A print's own identity and fee, as the archive gives them (engine/venues/polymarket/pmxt_rows.py)."""
    if not isinstance(data, dict) or not data or set(data) - {"tx", "fee_bps"}:
        return False
    tx, fee = data.get("tx"), data.get("fee_bps")
    return (tx is None or (isinstance(tx, str) and 0 < len(tx) <= 80)) and (
        fee is None or (_whole(fee) and 0 <= fee <= 10_000))


def _decide(side: Any, price: Any, size: Any, data: Any) -> str | None:
    """A marker: its time and, in size, since when every book was known current (none in older sessions)."""
    if (side, price, data) != (None, None, None) or not (size is None or (_whole(size) and size >= 0)):
        return "marker carries nothing but its time and since when the books were current (a time, in size)"
    return None


_SHAPES = {"book": _book, "change": _change, "trade": _trade, "decide": _decide}


def header_markets(raw: Any) -> list[dict[str, Any]]:
    """The header's markets, each checked, none twice and no token in two of them."""
    if not isinstance(raw, list) or len(raw) > MAX_MARKETS:
        raise SessionError(f"the header's markets are not a list of at most {MAX_MARKETS}")
    markets = [checked_market(m, i) for i, m in enumerate(raw)]
    owners: dict[str, str] = {}  # condition id or token -> the market that names it
    for market in markets:
        cid = market["condition_id"]
        for key in (cid, market["yes_token"], market["no_token"]):
            if key in owners:
                twice = "twice" if owners[key] == cid else f"with a token of market {owners[key]}"
                raise SessionError(f"market {cid} appears in the header {twice}")
            owners[key] = cid
    return markets
