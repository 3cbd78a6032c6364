"""`python -m engine pairs spreads`: for every pair linked by hand, what buying one side on each venue
would lock in now, after both venues' taker fees, as deep as both books go (contracts/cross_venue.py).

It reads both venues' current books (Polymarket's CLOB through the desk's REST client, Kalshi's
public order books through the desk's Kalshi client, all in one request) and places nothing (a
`cross_venue_arb` strategy trades such spreads). Of a pair not linked `--inverted`, Polymarket's YES
is paid with Kalshi's NO and the reverse; of an inverted pair, YES with YES. Published scans find
about half of apparent cross-venue spreads negative once fees and depth are counted: this says which
are not, and by how much.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from contracts.cross_venue import Way, pair_ways
from contracts.domain import MICRO, Level
from contracts.settings import Settings
from contracts.venues.kalshi import ids as kalshi
from contracts.venues.kalshi.fees import KalshiFees, market_fees_at
from engine.cli.errors import CliError, open_db
from storage.sqlite.db import now_ms


def _asks(levels: list[tuple[int, int]]) -> list[Level]:
    return [Level(p, s) for p, s in sorted(levels) if s > 0]


def _polymarket_asks(settings: Settings, tokens: list[str]) -> dict[str, list[Level]]:
    from engine.venues.polymarket.rest import RestClient, fetch_books

    async def read() -> Any:
        client = RestClient(settings.clob_host)
        try:
            return await fetch_books(client, tokens)
        finally:
            await client.close()

    try:
        books = asyncio.run(read())
    except Exception as exc:  # the network or the venue: say so, never a traceback
        raise CliError(f"Polymarket's books could not be read at {settings.clob_host}: {type(exc).__name__}") from None
    return {b.token_id: _asks(list(b.asks)) for b in books}


def _kalshi_books(settings: Settings, tickers: list[str]) -> dict[str, tuple[list[Level], list[Level]]] | str:
    """(YES asks, NO asks) of each Kalshi market (a YES ask is 1 - a NO bid, exactly), or why they were
    not read."""
    from engine.venues.kalshi.client import KalshiClient
    from engine.venues.kalshi.fixed import KalshiShapeError
    from engine.venues.kalshi.http import KalshiError

    assert settings.kalshi is not None
    host = settings.kalshi.host

    async def read() -> list[Any]:
        client = KalshiClient.at(host)  # Kalshi's books are public: no key
        try:
            return await client.orderbooks(tickers)
        finally:
            await client.close()

    try:
        books = asyncio.run(read())
    except (KalshiError, KalshiShapeError) as exc:  # a market gone, the network: the pairs say so
        return f"Kalshi's books not read ({exc})"[:300]
    return {b.ticker: (_asks([(kalshi.CONTRACT - p, s) for p, s in b.no_bids]),
                       _asks([(kalshi.CONTRACT - p, s) for p, s in b.yes_bids])) for b in books}


def _line(way: Way) -> dict[str, Any]:
    found, poly, side = way.found, way.poly_outcome, way.kalshi_side
    if found is None:
        return {"buy": f"{poly} on Polymarket + {side.upper()} on Kalshi", "shares": 0}
    return {"buy": f"{poly} on Polymarket + {side.upper()} on Kalshi", "shares": found.size / MICRO,
            "polymarket_cost": found.poly_cost / MICRO, "kalshi_cost": found.kalshi_cost / MICRO,
            "fees": found.fees / MICRO, "locks_in": found.edge / MICRO,
            "limits": {"polymarket": found.worst_poly / MICRO, "kalshi": found.worst_kalshi / MICRO}}


def spreads(settings: Settings, *, margin: float, capital: float) -> list[dict[str, Any]]:
    from engine.feeds.catalog import MarketCatalog
    from storage.desk.venue_pairs import list_pairs

    db = open_db(settings)
    pairs = list_pairs(db)
    catalog = MarketCatalog()
    catalog.load(db)
    markets = {p.condition_id: catalog.get(p.condition_id) for p in pairs}
    tokens = [t for m in markets.values() if m is not None for t in (m.yes_token, m.no_token)]
    books = _polymarket_asks(settings, tokens) if tokens else {}
    theirs = _kalshi_books(settings, sorted({p.kalshi_ticker for p in pairs})) if pairs else {}
    out = []
    for pair in pairs:
        row: dict[str, Any] = {"pair": pair.id, "polymarket": pair.condition_id, "kalshi": pair.kalshi_ticker,
                               "question": pair.polymarket_question, "inverted": pair.inverted}
        market = markets[pair.condition_id]
        other = theirs if isinstance(theirs, str) else theirs.get(pair.kalshi_ticker, "Kalshi sent no book for it")
        if market is None or isinstance(other, str):
            row["not_read"] = other if isinstance(other, str) else "the Polymarket market is not in the desk's list"
            out.append(row)
            continue
        info = catalog.get(kalshi.market_id(pair.kalshi_ticker))
        fees = market_fees_at(info, now_ms()) if info is not None else KalshiFees()
        yes_asks, no_asks = other
        ways = pair_ways({"YES": books.get(market.yes_token, []), "NO": books.get(market.no_token, [])},
                         {"yes": yes_asks, "no": no_asks}, inverted=pair.inverted,
                         poly_fee_ppm=market.fee_rate_ppm, poly_fee_exponent=market.fee_exponent,
                         margin=round(margin * MICRO), capital=round(capital * MICRO), kalshi_fees=fees)
        row["ways"] = [_line(way) for way in ways]
        out.append(row)
    return out


def cmd_spreads(settings: Settings, args: argparse.Namespace) -> int:
    if not 0 <= args.margin < 1:
        raise CliError(f"--margin {args.margin}: a share of a dollar from 0 to under 1, e.g. 0.01")
    if args.capital <= 0:
        raise CliError(f"--capital {args.capital}: dollars each venue may spend, above 0")
    rows = spreads(settings, margin=args.margin, capital=args.capital)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no pairs: link one with `python -m engine pairs add <condition id> <ticker>`")
    for row in rows:
        print(f"{row['pair']:4}  {row['question'][:60]}  =  {row['kalshi']}{' (inverted)' if row['inverted'] else ''}")
        if "not_read" in row:
            print(f"      not read: {row['not_read']}")
            continue
        for way in row["ways"]:
            if not way["shares"]:
                print(f"      {way['buy']}: nothing under {1 - args.margin:.2f} a share after fees")
                continue
            print(f"      {way['buy']}: {way['shares']:g} shares, costs {way['polymarket_cost']:.2f} + "
                  f"{way['kalshi_cost']:.2f} (fees {way['fees']:.2f} within), locks in {way['locks_in']:.2f}; "
                  f"limits {way['limits']['polymarket']:.2f} / {way['limits']['kalshi']:.2f}")
    print("Nothing was placed (a cross_venue_arb strategy trades these). Both markets must resolve together for "
          "an edge to be real (read the pair's warnings: `pairs list`).")
    return 0
