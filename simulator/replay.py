"""Replay: a recorded session served as the simulator's market (``--replay SESSION``).

The desk's recording (the ``ticks`` and ``recording_sessions`` tables of its SQLite file,
read here with sqlite3 alone: the simulator never imports the engine) becomes the venue: the
session's markets are listed (Gamma, CLOB) with their recorded ticks, sizes and fees; each
recorded book and level change sets the replayed liquidity at those prices; each recorded
trade is printed as it was. At ``--speed 1`` events come at their recorded pace, at 10 ten
times faster, at ``full`` as fast as the loop sends them. The replay starts when the first
client subscribes to one of its markets (so the desk sees the session from its start) and
stops at its end, leaving the last book.

The desk's orders meet the replayed book through the simulator's own matching: a marketable
order fills against the recorded levels (which stay reduced until the recording next
changes them), and a recorded level that crosses a resting order of the desk fills it. The
recording does not react: the recorded prints and levels are what the market did without
the desk's orders (see the README, "Replaying a recorded session").
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from .markets import Market, Token
from .orders import ASK, BID, BUY, SELL, Order
from .rules import OrderRejected

if TYPE_CHECKING:
    from .exchange import Exchange

log = logging.getLogger("simulator.replay")
OWNER = "replay-recording"
ADDRESS = "0x" + "5e" * 20
BATCH = 2000
YIELD_EVERY = 200  # full speed: let the server breathe (HTTP, WebSocket writes) this often
END_AFTER_S = 30 * 24 * 3600.0
FULL = 0.0  # --speed full
Row = tuple[int, int, str, str, str | None, int | None, int | None, str | None]


class ReplayError(ValueError):
    """The session cannot be replayed; the message is meant for the operator."""


def parse_speed(raw: str) -> float:
    """"full" (as fast as possible: 0.0) or a factor from 0.01 to 1000 (1 = recorded pace)."""
    text = str(raw).strip().lower()
    if text in ("full", "max"):
        return FULL
    try:
        speed = float(text.rstrip("x×"))
    except ValueError:
        raise ValueError(f"speed must be 'full' or a factor such as 1 or 10, not {raw!r}") from None
    if not 0.01 <= speed <= 1000:
        raise ValueError(f"speed must be from 0.01 to 1000 (or 'full'), not {raw!r}")
    return speed


@dataclass(frozen=True)
class Recording:
    name: str
    start_ms: int
    end_ms: int
    markets: list[dict[str, Any]]

    @property
    def tokens(self) -> list[str]:
        return [t for m in self.markets for t in (m["yes_token"], m["no_token"])]


def _connect(db_path: Path) -> sqlite3.Connection:
    if not db_path.is_file():
        raise ReplayError(f"no recording database at {db_path} (give --replay-db, or set TRADER_DB)")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def load_recording(db_path: Path, name: str) -> Recording:
    """The session's span and its markets' rows (an all-markets session: those with ticks)."""
    conn = _connect(db_path)
    try:
        try:
            row = conn.execute("SELECT * FROM recording_sessions WHERE name = ?", (name,)).fetchone()
        except sqlite3.OperationalError:
            raise ReplayError(f"{db_path} has no recording sessions (is it the desk's database?)") from None
        if row is None:
            newest = conn.execute("SELECT name FROM recording_sessions ORDER BY started_at DESC LIMIT 10")
            known = [r[0] for r in newest]
            raise ReplayError(f"no recording session named {name!r} in {db_path}"
                              + (f" (sessions: {', '.join(known)})" if known else " (it has none)"))
        start = int(row["started_at"])
        end = int(row["stopped_at"]) if row["stopped_at"] is not None else int(time.time() * 1000)
        chosen = json.loads(row["markets"])
        if chosen:
            markets = conn.execute("SELECT * FROM markets WHERE condition_id IN (SELECT value FROM json_each(?)) "
                                   "ORDER BY condition_id", (json.dumps(chosen),)).fetchall()
        else:
            markets = conn.execute("""SELECT * FROM markets m WHERE EXISTS (SELECT 1 FROM ticks t
                                      WHERE t.token_id IN (m.yes_token, m.no_token) AND t.at BETWEEN ? AND ?)
                                      ORDER BY condition_id""", (start, end)).fetchall()
    finally:
        conn.close()
    if not markets:
        raise ReplayError(f"session {name!r} has no recorded market to replay")
    return Recording(name, start, end, [dict(m) for m in markets])


def build_markets(recording: Recording, now: float) -> list[Market]:
    """The session's markets as the venue listed them, open for the replay's lifetime."""
    out = []
    for i, row in enumerate(recording.markets):
        outcomes = _outcomes(row.get("outcomes"))
        nr_id = row.get("neg_risk_market_id") or ""
        neg_risk = bool(row.get("neg_risk"))
        out.append(Market(
            gamma_id=str(row.get("gamma_id") or 900_000 + i), condition_id=row["condition_id"], question_id="",
            question=row["question"], description="replayed from a recording session", slug=row.get("slug") or "",
            tags=_tags(row.get("tags")), icon="",
            yes=Token(row["yes_token"], outcomes[0], True), no=Token(row["no_token"], outcomes[1], False),
            tick=int(row["tick"]), min_size=int(row["min_size"]), neg_risk=neg_risk, neg_risk_market_id=nr_id,
            neg_risk_request_id=("0x" + keccak(text=f"{nr_id}:{row['condition_id']}").hex()) if neg_risk else "",
            start_ts=now, end_ts=now + END_AFTER_S, latent=0.5,
            fee_rate=int(row.get("fee_rate_ppm") or 0), fee_exponent=int(row.get("fee_exponent") or 1)))
    return out


def _outcomes(raw: Any) -> tuple[str, str]:
    try:
        names = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        names = None
    if isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names):
        return names[0], names[1]
    return "Yes", "No"


def _tags(raw: Any) -> list[str]:
    try:
        tags = json.loads(raw) if isinstance(raw, str) else []
    except json.JSONDecodeError:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def recorded_rows(db_path: Path, recording: Recording) -> Iterator[Row]:
    """(id, at, token, kind, side, price, size, data) of the session's markets, in recorded
    order, read in batches (a week of ticks is never in memory)."""
    last = -1
    tokens = json.dumps(recording.tokens)
    while True:
        conn = _connect(db_path)
        try:
            batch = conn.execute("""SELECT id, at, token_id, kind, side, price, size, data FROM ticks
                                    WHERE id > ? AND at BETWEEN ? AND ? AND kind != 'decide'
                                      AND token_id IN (SELECT value FROM json_each(?))
                                    ORDER BY id LIMIT ?""",
                                 (last, recording.start_ms, recording.end_ms, tokens, BATCH)).fetchall()
        finally:
            conn.close()
        if not batch:
            return
        last = batch[-1][0]
        yield from (tuple(r) for r in batch)


@dataclass
class Replayer:
    """Drives the exchange from the recording; everything runs on the server's loop."""

    exchange: Exchange
    db_path: Path
    recording: Recording
    speed: float
    watching: Any  # (Market) -> bool: a client subscribes to it
    events: int = 0
    started: bool = False
    done: bool = False
    levels: dict[tuple[str, str, int], Order] = field(default_factory=dict)
    _n: int = 0

    def status(self) -> dict[str, Any]:
        return {"session": self.recording.name, "speed": "full" if self.speed == FULL else self.speed,
                "started": self.started, "done": self.done, "events": self.events,
                "from_ms": self.recording.start_ms, "to_ms": self.recording.end_ms}

    async def run(self) -> None:
        markets = list(self.exchange.markets.values())
        self.exchange.ledger.account(ADDRESS, internal=True)
        log.info("replay of session %r ready: %d markets; it starts when a client subscribes to one",
                 self.recording.name, len(markets))
        while not any(self.watching(m) for m in markets):
            await asyncio.sleep(0.05)
        self.started = True
        wall0, rec0 = time.monotonic(), self.recording.start_ms
        for row in recorded_rows(self.db_path, self.recording):
            if self.speed == FULL:
                if self.events % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            else:
                due = wall0 + (row[1] - rec0) / 1000 / self.speed - time.monotonic()
                if due > 0.001:
                    await asyncio.sleep(due)
            self.apply(row)
            self.events += 1
        self.done = True
        log.info("replay of session %r finished: %d events", self.recording.name, self.events)

    # -- one recorded event ------------------------------------------------------------

    def apply(self, row: Row) -> None:
        _, _, token_id, kind, side, price, size, data = row
        market = self.exchange.market_for_token(token_id)
        if market is None:
            return
        token = market.token(token_id)
        if kind == "trade" and side in (BUY, SELL) and price is not None and size:
            self._print(market, token, side, price, size)
        elif kind == "book" and data:
            book = json.loads(data)
            wanted = {**{_yes(token, True, p): s for p, s in book.get("b", [])},
                      **{_yes(token, False, p): s for p, s in book.get("a", [])}}
            self._set_levels(market, wanted, replace_all=True)
        elif kind == "change":
            changes: list[Any] = json.loads(data) if data else [[1 if side == BUY else 0, price, size]]
            self._set_levels(market, {_yes(token, bool(b), p): s for b, p, s in changes}, replace_all=False)

    def _set_levels(self, market: Market, wanted: dict[tuple[str, int], int], *, replace_all: bool) -> None:
        """The replayed liquidity at each (YES side, YES price) becomes the recorded size. Stale
        levels go first (a snapshot's absent ones, and any the new levels would cross: the
        recording never trades with itself), then sizes change in place, then new levels are
        placed through matching (they fill a desk order they cross)."""
        cid = market.condition_id
        mine = {(s, p): o for (c, s, p), o in self.levels.items() if c == cid}
        gone = [k for k, o in mine.items() if (replace_all and k not in wanted) or wanted.get(k) == 0]
        for side, price in (k for k, s in wanted.items() if s > 0):
            opposite = ASK if side == BID else BID
            gone += [k for k in mine if k[0] == opposite and (k[1] <= price if side == BID else k[1] >= price)]
        stale = [self.levels.pop((cid, *k)) for k in dict.fromkeys(gone) if (cid, *k) in self.levels]
        if stale:
            self.exchange.cancel(stale)
        resized = []
        for key, size in wanted.items():
            order = self.levels.get((cid, *key))
            if size <= 0:
                continue
            if order is not None and order.is_open:
                if order.remaining != size:
                    self._resize(order, size)
                    resized.append(key)
            else:
                self._place(market, key, size)
        if resized:
            self.exchange.republish(market, resized)

    def _resize(self, order: Order, size: int) -> None:
        book = self.exchange.books[order.market.condition_id]
        level = book.side(order.yes_side)[order.yes_price]
        level.total += size - order.remaining
        order.size = order.matched + size

    def _place(self, market: Market, key: tuple[str, int], size: int) -> None:
        side, yes_price = key
        self._n += 1
        order = Order(id=f"replay-{self._n}", market=market, token=market.yes, side=BUY if side == BID else SELL,
                      price=yes_price, size=size, order_type="GTC", owner=OWNER, maker_address=ADDRESS,
                      created_at=int(time.time()), internal=True)
        try:
            self.exchange.place(order)
        except OrderRejected as exc:  # e.g. the market closed meanwhile
            log.warning("replayed level %s %s not placed: %s", side, yes_price, exc)
            return
        if order.is_open:
            self.levels[(market.condition_id, side, yes_price)] = order

    def _print(self, market: Market, token: Token, side: str, price: int, size: int) -> None:
        self._n += 1
        other = SELL if side == BUY else BUY
        taker = Order(id=f"replay-{self._n}-t", market=market, token=token, side=side, price=price, size=size,
                      order_type="FAK", owner=OWNER, maker_address=ADDRESS, created_at=0, internal=True)
        maker = Order(id=f"replay-{self._n}-m", market=market, token=token, side=other, price=price, size=size,
                      order_type="GTC", owner=OWNER, maker_address=ADDRESS, created_at=0, internal=True)
        self.exchange.print_trade(token, price, size, side, taker, maker)


def _yes(token: Token, is_bid: bool, price: int) -> tuple[str, int]:
    """A token's (bid?, price) in the canonical YES book: a NO bid at p is a YES ask at 1 - p."""
    if token.is_yes:
        return (BID if is_bid else ASK), int(price)
    return (ASK if is_bid else BID), 1_000_000 - int(price)
