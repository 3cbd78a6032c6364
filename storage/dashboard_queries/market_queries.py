"""Market reads (re-exported by storage.dashboard_queries.status_queries): search, one market,
recorded prices downsampled in SQL, the book now, and the strategies trading a market.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import text

from contracts.domain import BadNumber, to_micros
from contracts.jsonsafe import FEED_BYTES, read_stored
from contracts.limits import BY_NAME as LIMIT_SPECS
from contracts.limits import LimitError, parse_value
from contracts.venues.polymarket.protocol_v2 import protocol_label
from storage.dashboard_queries import candle_queries
from storage.sqlite.db import Database
from storage.sqlite.frames import MICRO, to_human, to_utc, where
from storage.sqlite.frames import frame as _frame
from storage.sqlite.frames import scalar as _scalar
from storage.sqlite.sql import in_list

# -- markets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketFilter:
    """Money in pUSD; end dates as epoch ms UTC; every word of `text` must match."""

    text: str = ""
    min_volume: float = 0.0
    min_liquidity: float = 0.0
    ends_after_ms: int | None = None
    ends_before_ms: int | None = None
    tags: tuple[str, ...] = ()
    tradable_only: bool = False

    def sql(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {
            "minv": int(self.min_volume * MICRO),
            "minl": int(self.min_liquidity * MICRO),
        }
        for i, word in enumerate(self.text.split()):
            clauses.append(
                f"(question LIKE :w{i} ESCAPE '\\' OR slug LIKE :w{i} ESCAPE '\\' OR condition_id = :r{i})"
            )
            params[f"w{i}"], params[f"r{i}"] = _containing(word), word
        if self.min_volume > 0:
            clauses.append("volume >= :minv")
        if self.min_liquidity > 0:
            clauses.append("liquidity >= :minl")
        if self.ends_after_ms is not None:
            clauses.append("end_at >= :after")
            params["after"] = self.ends_after_ms
        if self.ends_before_ms is not None:
            clauses.append("end_at <= :before")
            params["before"] = self.ends_before_ms
        if self.tags:
            names, tag_params = in_list("t", [tag.lower() for tag in self.tags])
            clauses.append(
                f"json_valid(tags) AND EXISTS (SELECT 1 FROM json_each(tags) WHERE lower(value) IN {names})"
            )
            params.update(tag_params)
        if self.tradable_only:
            clauses.append("tradable = 1 AND closed = 0 AND accepting_orders = 1")
        return where(clauses), params


def _containing(word: str) -> str:
    """A LIKE pattern for text containing `word` as typed (its %, _ and \\ taken literally)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_MARKET_COLUMNS = """condition_id, question, slug, yes_token, no_token, volume, volume_24h, liquidity, end_at,
    tags, tradable, closed, accepting_orders, neg_risk, neg_risk_market_id, tick, min_size, untradable_reason,
    resolved_outcome, payout_yes, payout_no, updated_at, game_start_at, clear_book_on_start, gamma_version,
    listed_bid, listed_ask, listed_last, listed_at"""


def _market_units(data: pd.DataFrame) -> pd.DataFrame:
    to_human(data, "volume", "volume_24h", "liquidity", "tick", "min_size", "listed_bid", "listed_ask", "listed_last")
    for flag in ("tradable", "closed", "accepting_orders", "neg_risk"):
        data[flag] = data[flag].astype(bool)
    data["tags"] = data["tags"].map(_tag_list)
    data["protocol"] = data["gamma_version"].map(protocol_label)
    return to_utc(data, "end_at", "updated_at")


def _tag_list(raw: str | None) -> list[str]:
    tags, _ = read_stored(raw or "[]", what="a market's tags")
    return [str(t) for t in tags] if isinstance(tags, list) else []


def search_markets(db: Database, spec: MarketFilter, *, limit: int = 200) -> pd.DataFrame:
    clause, params = spec.sql()
    data = _frame(
        db,
        f"SELECT {_MARKET_COLUMNS} FROM markets WHERE {clause} ORDER BY volume DESC, condition_id "
        "LIMIT :limit",
        {**params, "limit": limit},
    )
    return _market_units(data)


def count_markets(db: Database, spec: MarketFilter) -> int:
    clause, params = spec.sql()
    return int(_scalar(db, f"SELECT COUNT(*) FROM markets WHERE {clause}", params))


def market_tags(db: Database, limit: int = 500) -> list[str]:
    with db.read() as conn:
        rows = conn.execute(
            text("""SELECT DISTINCT j.value FROM markets, json_each(markets.tags) j
                                    WHERE json_valid(markets.tags) ORDER BY 1 LIMIT :n"""),
            {"n": limit},
        )
        return [str(value) for (value,) in rows]


def market(db: Database, condition_id: str) -> dict[str, Any] | None:
    """One market's row, with how the engine prices it when it is an up/down window (`updown`: the
    stream pricing it, its price to beat in USD and where that came from; None otherwise)."""
    data = _frame(
        db, f"SELECT {_MARKET_COLUMNS} FROM markets WHERE condition_id = :cid", {"cid": condition_id}
    )
    if data.empty:
        return None
    found = _market_units(data).iloc[0].to_dict()
    with db.read() as conn:
        row = conn.execute(text("SELECT priced_by, price_to_beat, beat_from FROM updown_windows "
                                "WHERE condition_id = :cid"), {"cid": condition_id}).one_or_none()
    found["updown"] = None if row is None else {
        "priced_by": row[0], "price_to_beat": None if row[1] is None else row[1] / 1e6, "beat_from": row[2]}
    return found


def market_choices(db: Database, *, limit: int = 500, include: tuple[str, ...] = ()) -> pd.DataFrame:
    """Markets to pick from (open ones by volume, and the Kalshi market of each pair the operator
    linked, "Kalshi: <its title>") plus any ids in `include`: condition_id, label."""
    names, include_params = in_list("i", include)
    data = _frame(
        db,
        f"""SELECT condition_id, question FROM markets WHERE condition_id IN {names}
            UNION
            SELECT * FROM (SELECT condition_id, question FROM markets WHERE closed = 0
                           ORDER BY volume DESC LIMIT :n)
            UNION
            SELECT 'kalshi:' || kalshi_ticker, 'Kalshi: ' || kalshi_title FROM venue_pairs""",
        {"n": limit, **include_params},
    )
    data["label"] = data["question"] + "  ·  " + data["condition_id"].str.slice(0, 10)
    return data.sort_values("question", ignore_index=True)


def find_markets(db: Database, typed: str, *, limit: int = 20) -> tuple[pd.DataFrame, int]:
    """The open markets whose question contains every word typed (in any case; a word is never
    matched loosely, letter by letter), or whose id is one typed, and the Kalshi market of each pair
    whose title does: condition_id, question, min_size (shares; None for a Kalshi pair), the
    busiest first, at most `limit` of them; and how many match in all."""
    words = typed.split()
    if not words:
        return pd.DataFrame(columns=["condition_id", "question", "min_size"]), 0
    params: dict[str, Any] = {"n": limit}
    for i, word in enumerate(words):
        params[f"w{i}"], params[f"r{i}"] = _containing(word), word
    polymarket = " AND ".join(f"(question LIKE :w{i} ESCAPE '\\' OR condition_id = :r{i})" for i in range(len(words)))
    kalshi = " AND ".join(f"(kalshi_title LIKE :w{i} ESCAPE '\\' OR 'kalshi:' || kalshi_ticker = :r{i})"
                          for i in range(len(words)))
    found = f"""SELECT condition_id, question, min_size, volume FROM markets WHERE closed = 0 AND {polymarket}
                UNION ALL
                SELECT 'kalshi:' || kalshi_ticker, 'Kalshi: ' || kalshi_title, NULL, -1 FROM venue_pairs
                WHERE {kalshi}"""
    data = _frame(db, f"SELECT condition_id, question, min_size FROM ({found}) "
                      "ORDER BY volume DESC, condition_id LIMIT :n", params)
    data["min_size"] = [None if pd.isna(m) else int(m) / MICRO for m in data["min_size"]]
    return data, int(_scalar(db, f"SELECT COUNT(*) FROM ({found})", params))


def tick_bounds(db: Database, token_id: str) -> tuple[int, int] | None:
    """First and last recorded tick time of a token (two index seeks)."""
    with db.read() as conn:
        first = conn.execute(
            text("SELECT at FROM ticks WHERE token_id = :t ORDER BY at LIMIT 1"), {"t": token_id}
        ).scalar()
        last = conn.execute(
            text("SELECT at FROM ticks WHERE token_id = :t ORDER BY at DESC LIMIT 1"), {"t": token_id}
        ).scalar()
    return None if first is None or last is None else (int(first), int(last))


# A chart bucket at least this wide reads the kept candles, not the ticks: a few hundred index seeks
# either way, but candles hold a wide range whole (ticks only their retention's).
WIDE_BUCKET_MS = 5 * 60_000


Bounds = tuple[int, int] | None
UNREAD: Bounds = (-1, -1)  # the ticks' bounds not read yet by the caller


def price_bounds(db: Database, token_id: str, ticks: Bounds = UNREAD) -> tuple[int, int] | None:
    """The span of a token's recorded prices: its ticks' and its kept candles' together (the candles
    outlive the ticks' retention). `ticks`: its ticks' bounds, when the caller has read them."""
    ticks = tick_bounds(db, token_id) if ticks == UNREAD else ticks
    spans = [b for b in (ticks, candle_queries.bounds(db, token_id)) if b is not None]
    return (min(b[0] for b in spans), max(b[1] for b in spans)) if spans else None


def price_series(
    db: Database, token_id: str, since_ms: int, until_ms: int, *, points: int = 400, ticks: Bounds = UNREAD
) -> pd.DataFrame:
    """The mid over [since, until] in at most `points` rows. Columns: at (UTC), mid (probability);
    `attrs["source"]` says what it was read from.

    A wide range (a bucket of WIDE_BUCKET_MS or more) reads the kept candles (storage/dashboard_queries/
    candle_queries.py); a narrower one reads the ticks, and the candles for the part of it before the
    first tick kept (past the ticks' retention). Ticks: each bucket takes its last recorded mid through
    one index seek on ticks(token_id, at), so the cost depends on `points`, not on how many ticks were
    recorded (1 M rows stay fast). Empty buckets are dropped. `ticks`: the ticks' bounds, when the caller
    has read them.
    """
    width = max(1, (until_ms - since_ms) // points + 1)
    first_tick = tick_bounds(db, token_id) if ticks == UNREAD else ticks
    candles = candle_queries.bounds(db, token_id)
    # The candles hold the window unless the ticks begin before them (recorded before the candles were
    # kept, until retention rolls them in: engine/marketdata/candle_backfill.py) and before its end.
    candles_hold = candles is not None and (first_tick is None or candles[0] <= max(first_tick[0], since_ms + width))
    if width >= WIDE_BUCKET_MS and candles_hold:
        wide = candle_queries.series(db, token_id, since_ms, until_ms, width)
        if not wide.empty:
            return wide
    recent = _tick_series(db, token_id, since_ms, until_ms, width)
    if first_tick is not None and first_tick[0] <= since_ms:
        return recent
    gone = candle_queries.series(db, token_id, since_ms, until_ms if first_tick is None else first_tick[0], width)
    found = [part for part in (gone, recent) if not part.empty]
    if len(found) < 2:
        return found[0] if found else recent
    data = pd.concat(found, ignore_index=True)
    data.attrs["source"] = " and ".join(p.attrs["source"] for p in found)
    return data


def _tick_series(db: Database, token_id: str, since_ms: int, until_ms: int, width: int) -> pd.DataFrame:
    data = _frame(
        db,
        """WITH RECURSIVE edge(x) AS (SELECT :lo + :w UNION ALL SELECT x + :w FROM edge WHERE x < :hi)
           SELECT x AS at, (SELECT t.mid FROM ticks t WHERE t.token_id = :t AND t.at <= x AND t.at > x - :w
                            AND t.mid IS NOT NULL ORDER BY t.at DESC LIMIT 1) AS mid
           FROM edge""",
        {"lo": since_ms - 1, "hi": until_ms, "w": width, "t": token_id},
    )
    data = data.dropna(subset=["mid"]).reset_index(drop=True)
    data = to_utc(to_human(data, "mid"), "at")
    data.attrs["source"] = "recorded ticks"
    return data


@dataclass(frozen=True)
class BookView:
    """Depth now: levels best first as (price probability, size shares)."""

    at: int
    bids: list[tuple[float, float]] = field(default_factory=list)
    asks: list[tuple[float, float]] = field(default_factory=list)
    changes_applied: int = 0
    complete: bool = True  # False when more changes followed the snapshot than were replayed


def _micros(value: Any) -> int:
    """Integers are stored micro-units; strings and floats are venue decimals ("0.52")."""
    if isinstance(value, int):
        return value
    try:
        return to_micros(str(value))
    except BadNumber:  # "1e999999" too: never a decimal.Overflow on a page
        return 0


def _levels(raw: Any) -> dict[int, int]:
    out: dict[int, int] = {}
    for level in raw if isinstance(raw, list) else []:
        if isinstance(level, (list, tuple)) and len(level) >= 2:
            out[_micros(level[0])] = _micros(level[1])
    return out


def _level_changes(row: Any) -> list[tuple[bool, int, int]]:
    """One `change` row as (is_bid, price, new size) triples. The recorder writes all the
    changes of a book update as data = [[is_bid, price, size], ...]; a row of one level in
    side/price/size (BUY = bid) is read too."""
    if row.data:
        raw, _ = read_stored(row.data, max_bytes=FEED_BYTES, what="a recorded change")
        if not isinstance(raw, list):
            return []
        return [
            (bool(c[0]), _micros(c[1]), _micros(c[2])) for c in raw if isinstance(c, list) and len(c) >= 3
        ]
    if row.price is None or row.side not in ("BUY", "SELL"):
        return []
    return [(row.side == "BUY", row.price, row.size or 0)]


def _pairs(levels: dict[int, int], *, best_first_high: bool) -> list[tuple[float, float]]:
    ordered = sorted(levels.items(), reverse=best_first_high)
    return [(price / MICRO, size / MICRO) for price, size in ordered if size > 0]


def latest_book(
    db: Database,
    token_id: str,
    *,
    max_changes: int = 5000,
    lookback_ms: int = 7 * 86_400_000,
    last_tick_at: int | None = None,
) -> BookView | None:
    """The latest recorded `book` tick of a token, with the `change` ticks after it replayed
    (a change's size is the new size at that price; 0 removes the level; the recorder takes a
    fresh snapshot every minute, so the replay stays short).

    The book is found by walking ticks(token_id, at) newest first, which stops at the first
    snapshot; `lookback_ms` (before the token's last tick) bounds the walk when there is none.
    A caller that has just read `tick_bounds` passes its last tick time as `last_tick_at`.
    """
    if last_tick_at is None:
        bounds = tick_bounds(db, token_id)
        if bounds is None:
            return None
        last_tick_at = bounds[1]
    with db.read() as conn:
        book = conn.execute(
            text("""SELECT at, id, data FROM ticks WHERE token_id = :t AND at >= :floor AND kind = 'book'
                    ORDER BY at DESC LIMIT 1"""),
            {"t": token_id, "floor": last_tick_at - lookback_ms},
        ).first()
        if book is None:
            return None
        # A range, not an OR, so SQLite seeks ticks(token_id, at) instead of walking the token.
        changes = conn.execute(
            text("""SELECT side, price, size, data FROM ticks WHERE token_id = :t AND kind = 'change'
                    AND at >= :at AND NOT (at = :at AND id <= :id) ORDER BY at, id LIMIT :n"""),
            {"t": token_id, "at": book.at, "id": book.id, "n": max_changes + 1},
        ).all()
    data, _ = read_stored(book.data or "{}", max_bytes=FEED_BYTES, what="a recorded book")
    if not isinstance(data, dict):
        data = {}
    bids, asks = _levels(data.get("b")), _levels(data.get("a"))
    for row in changes[:max_changes]:
        for is_bid, price, size in _level_changes(row):
            levels = bids if is_bid else asks
            if size:
                levels[price] = size
            else:
                levels.pop(price, None)
    return BookView(
        book.at,
        _pairs(bids, best_first_high=True),
        _pairs(asks, best_first_high=False),
        min(len(changes), max_changes),
        len(changes) <= max_changes,
    )


def market_strategies(db: Database, condition_id: str) -> pd.DataFrame:
    """Strategies trading a market: naming it in an explicit list, or with orders or positions in it."""
    data = _frame(
        db,
        """SELECT s.name, 'names it in its market list' AS via FROM strategies s
           WHERE s.deleted_at IS NULL AND json_valid(s.markets) AND json_type(s.markets) = 'array'
             AND EXISTS (SELECT 1 FROM json_each(s.markets) WHERE value = :cid)
           UNION SELECT DISTINCT strategy, 'has orders here' FROM orders WHERE condition_id = :cid
           UNION SELECT DISTINCT strategy, 'holds a position here' FROM positions
                 WHERE condition_id = :cid AND settled + pending != 0""",
        {"cid": condition_id},
    )
    if data.empty:
        return pd.DataFrame(columns=["name", "kind", "enabled", "status", "via"])
    vias = data.groupby("name", as_index=False)["via"].agg(lambda v: ", ".join(sorted(v)))
    meta = _frame(db, "SELECT name, kind, enabled, status FROM strategies")
    merged = vias.merge(meta, on="name", how="left")
    merged["enabled"] = merged["enabled"].fillna(0).astype(bool)
    return merged[["name", "kind", "enabled", "status", "via"]]


def ticket_facts(db: Database, condition_id: str, mode: str) -> dict[str, Any] | None:
    """What the manual ticket's preview needs of a market, in the database's own units (micro):
    its tick, minimum size, fee schedule (fees_at NULL: not read yet) and tokens, and the `manual`
    book's sellable shares of each token in `mode` (settled, less what its open SELLs reserve)."""
    with db.read() as conn:
        row = conn.execute(
            text("""SELECT condition_id, question, yes_token, no_token, tick, min_size, neg_risk, neg_risk_market_id,
                           end_at, fee_rate_ppm, fee_exponent, fees_at, tradable, accepting_orders, closed, slug, tags
                    FROM markets WHERE condition_id = :cid"""), {"cid": condition_id}).mappings().first()
        if row is None:
            return None
        held: dict[str, int] = dict(conn.execute(
            text("""SELECT p.token_id, p.settled - COALESCE((SELECT SUM(o.size - o.filled) FROM orders o
                        WHERE o.mode = p.mode AND o.strategy = p.strategy AND o.token_id = p.token_id
                          AND o.side = 'SELL' AND o.status_rank < 100), 0)
                    FROM positions p WHERE p.mode = :m AND p.strategy = 'manual' AND p.condition_id = :cid"""),
            {"m": mode, "cid": condition_id}).all())
        slippage = conn.execute(text("SELECT value FROM risk_limits WHERE name = 'max_slippage'")).scalar()
        least = conn.execute(text("SELECT value FROM risk_limits WHERE name = 'min_order_value'")).scalar()
    return {**dict(row), "held": {token: max(0, int(v or 0)) for token, v in held.items()},
            "max_slippage": _max_slippage(slippage), "min_order_value": _max_slippage(least, "min_order_value")}


def _max_slippage(raw: object, name: str = "max_slippage") -> int | None:
    """The max-slippage limit (or the limit `name`) in micro-units (the default when none is stored), or None
    when the stored value does not validate (the engine then keeps the one in force: it has the say)."""
    spec = LIMIT_SPECS[name]
    try:
        value = spec.default if raw is None else parse_value(spec, raw)
    except LimitError:
        return None
    return int(value * MICRO)


def quotes_now(db: Database, markets: pd.DataFrame, mode: str) -> pd.DataFrame:
    """What a trader scans per market of `markets` (a search_markets frame): YES bid, ask, mid,
    spread and last trade (probabilities), where they come from and when ("priced": the recorded
    book, replayed to its last change as the market's own book panel is, or the venue's listing
    as last read for a market the desk does not follow, whichever is newer; None where neither
    has a price), and the desk's YES and NO shares."""
    condition_ids = list(markets["condition_id"])
    rows = []
    with db.read() as conn:
        last_trades = {t: conn.execute(text("""SELECT price FROM ticks WHERE token_id = :t AND kind = 'trade'
                                               ORDER BY at DESC LIMIT 1"""), {"t": t}).scalar()
                       for t in markets["yes_token"]}
        held = conn.execute(text(f"""SELECT condition_id, outcome, SUM(settled + pending) FROM positions
                                     WHERE mode = :m AND condition_id IN {in_list('c', condition_ids)[0]}
                                     GROUP BY condition_id, outcome"""),
                            {"m": mode, **in_list("c", condition_ids)[1]}).all()
    shares = {(cid, outcome): size / MICRO for cid, outcome, size in held}
    for market in markets.itertuples():
        cid = market.condition_id
        quote = _recorded_quote(db, market.yes_token, last_trades.get(market.yes_token))
        listed_at = None if pd.isna(market.listed_at) else int(market.listed_at)
        if listed_at is not None and (quote is None or listed_at > quote[3]):
            quote = (_prob(market.listed_bid), _prob(market.listed_ask), _prob(market.listed_last), listed_at,
                     "listing")
        bid, ask, last, at, source = quote or (None, None, None, None, "")
        rows.append({"condition_id": cid, "bid": bid, "ask": ask,
                     "mid": (bid + ask) / 2 if bid is not None and ask is not None else None,
                     "spread": ask - bid if bid is not None and ask is not None else None,
                     "last": last, "priced": _as_of(at, source),
                     "yes_held": shares.get((cid, "YES"), 0.0), "no_held": shares.get((cid, "NO"), 0.0)})
    return pd.DataFrame(rows, columns=["condition_id", "bid", "ask", "mid", "spread", "last", "priced", "yes_held",
                                       "no_held"])


Quote = tuple[float | None, float | None, float | None, int, str]  # bid, ask, last, as of (ms), where from


def _recorded_quote(db: Database, token: str, trade: int | None) -> Quote | None:
    """A token's YES quote from the recorder: its book replayed to the last tick, as of that tick."""
    bounds = tick_bounds(db, token)
    if bounds is None:
        return None
    book = latest_book(db, token, last_tick_at=bounds[1])
    bid = book.bids[0][0] if book and book.bids else None
    ask = book.asks[0][0] if book and book.asks else None
    return bid, ask, None if trade is None else trade / MICRO, bounds[1], "book"


def _prob(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _as_of(at_ms: int | None, source: str) -> str:
    """"book 14:03:05" or "listing 2026-05-01 14:03" (a date when not today, UTC)."""
    if at_ms is None:
        return "no price yet"
    at = pd.Timestamp(at_ms, unit="ms", tz="UTC")
    today = pd.Timestamp.now(tz="UTC").normalize()
    return f"{source} {at:%H:%M:%S}" if at >= today else f"{source} {at:%Y-%m-%d %H:%M}"
