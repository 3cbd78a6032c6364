"""`GET /portfolio/positions` as Kalshi's Get Positions page (OpenAPI 3.34.0) says it answers.

`settlement_status`: `unsettled` (the default: positions in markets not yet settled), `settled`
(positions in settled markets still in the live data set) or `all`;
any other value is refused (400). Unsettled positions page by market (`limit` markets a page);
settled and all-state positions "are paginated by event ticker": a page holds every position of up
to `limit` events, in event-ticker order. "Cursors are specific to the selected settlement status":
a cursor handed out under one status and sent with another is refused (400; Kalshi does not say what
it does: the stricter reading). `limit` is 1..1000 (default 100); `ticker` and `event_ticker`
narrow the list. A position is listed while it holds contracts or has traded.

Archived positions (Get Historical Positions, Historical Data): settled positions move to
`GET /historical/positions` after the historical cutoff (`market_positions_last_updated_ts`), per
whole event: an event's positions stay live until every market of the event has settled, then all
of them move together once each was last updated before the cutoff, and they are never listed by
both. `exchange_index` narrows either list to one shard's markets.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .exchange import Exchange, Refused

STATUSES = ("unsettled", "settled", "all")
SETTLED = "finalized"  # the market status at which Kalshi pays its holders (lifecycle.finalize)
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def archived(ex: Exchange, who: str, cutoff_ms: int) -> set[str]:
    """The events whose positions of `who` are archived: every market of the event settled, and each of
    the account's positions in it last updated before the cutoff."""
    positions = ex.accounts[who].positions
    events: dict[str, list[str]] = {}
    for ticker, market in ex.markets.items():
        events.setdefault(market.event_ticker, []).append(ticker)
    out = set()
    for event, tickers in events.items():
        mine = [positions[t] for t in tickers if t in positions]
        if mine and all(ex.markets[t].status == SETTLED for t in tickers) and all(
                p.updated_ms < cutoff_ms for p in mine):
            out.add(event)
    return out


def historical(request: web.Request, ex: Exchange, who: str, cutoff_ms: int) -> tuple[list[tuple[str, Any]], str]:
    """`GET /historical/positions`: the archived positions (`ticker`, `event_ticker` narrow them), paged
    by market (`limit`, `cursor`)."""
    q = request.query
    gone = archived(ex, who, cutoff_ms)
    ticker, event = q.get("ticker"), q.get("event_ticker")
    held = [(t, p) for t, p in sorted(ex.accounts[who].positions.items())
            if ex.markets[t].event_ticker in gone and (p.count or p.total_traded)
            and (not ticker or t == ticker) and (not event or ex.markets[t].event_ticker == event)]
    start, limit = _cursor(q.get("cursor"), "historical"), _limit(q.get("limit"))
    more = start + limit < len(held)
    return held[start:start + limit], f"historical.{start + limit}" if more else ""


def _shard(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise Refused(400, "invalid_parameters", "invalid parameters", "exchange_index must be a shard's index")
    return int(raw)


def listed(request: web.Request, ex: Exchange, who: str, cutoff_ms: int = 0) -> tuple[list[tuple[str, Any]], str]:
    """The (ticker, position) pairs of one page, in order, and the next page's cursor ("" at the end)."""
    q = request.query
    status = q.get("settlement_status", "unsettled")
    if status not in STATUSES:
        raise Refused(400, "invalid_parameters", "invalid parameters",
                      f"settlement_status must be one of {', '.join(STATUSES)}")
    start, limit = _cursor(q.get("cursor"), status), _limit(q.get("limit"))
    ticker, event = q.get("ticker"), q.get("event_ticker")
    gone = archived(ex, who, cutoff_ms)
    shard = _shard(q.get("exchange_index"))
    held = [(t, p) for t, p in sorted(ex.accounts[who].positions.items())
            if (p.count or p.total_traded) and (not ticker or t == ticker)
            and (not event or ex.markets[t].event_ticker == event) and ex.markets[t].event_ticker not in gone
            and (shard is None or ex.markets[t].exchange_index == shard)
            and (status == "all" or (ex.markets[t].status == SETTLED) == (status == "settled"))]
    if status == "unsettled":
        chosen = held[start:start + limit]
        more = start + limit < len(held)
    else:
        events = sorted({ex.markets[t].event_ticker for t, _ in held})
        wanted = set(events[start:start + limit])
        chosen = sorted(((t, p) for t, p in held if ex.markets[t].event_ticker in wanted),
                        key=lambda tp: (ex.markets[tp[0]].event_ticker, tp[0]))
        more = start + limit < len(events)
    return chosen, f"{status}.{start + limit}" if more else ""


def _cursor(raw: str | None, status: str) -> int:
    if not raw:
        return 0
    made_for, _, offset = raw.partition(".")
    if made_for not in (*STATUSES, "historical") or not offset.isdigit():
        raise Refused(400, "invalid_parameters", "invalid parameters", "unknown cursor")
    if made_for != status:
        raise Refused(400, "invalid_parameters", "invalid parameters",
                      f"the cursor is for settlement_status={made_for}, not {status}")
    return int(offset)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Refused(400, "invalid_parameters", "invalid parameters", f"limit must be 1..{MAX_LIMIT}")
    return int(raw)
