"""`python -m engine pairs suggest|accept|reject`: for the markets the desk watches, the market of the other
venue likely to ask the same question, scored (engine/feeds/pair_match.py says how), for the trader to
confirm or reject. The desk never links by itself: `accept` shows both markets side by side with their
differences, as `pairs add` does, and links only when confirmed, through `pairs add`'s own path
(audited `pair.add`, its role check); `reject` keeps the suggestion so no refresh offers it again.

`suggest --refresh` is the refresh (the Markets page's **Refresh suggestions** starts it in the
background): it reads what the desk watches from its database (strategies' markets, then its open
listed markets, the most traded first, at most `WATCHED_MOST`), and Kalshi's open binary markets once
an hour at most (`LISTING_MAX_AGE_MS`: within it, the listing it kept is reused; at most `LISTING_PAGES`
pages, each paced by the desk's Kalshi client like every read of Kalshi's), and a Kalshi market a
strategy names that the listing lacks, one read each (at most `KALSHI_WATCHED_MOST`). Both directions:
a watched Polymarket market against Kalshi's listing, a watched Kalshi market against the desk's open
Polymarket markets.

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contracts.settings import Settings
from engine.cli.errors import CliError, actor, open_db

if TYPE_CHECKING:
    from storage.desk.pair_suggestions import Found, Market, Suggestion
    from storage.sqlite.db import Database

LISTING_MAX_AGE_MS = 3_600_000  # Kalshi's listing read at most once an hour (--reread: now)
LISTING_PAGES = 20  # pages of Kalshi's open markets read at most (1,000 markets a page, parlay legs left out)
WATCHED_MOST = 200  # Polymarket markets the desk watches, compared at most
KALSHI_WATCHED_MOST = 50  # Kalshi markets strategies name, read one by one at most
PER_MARKET = 3  # suggestions kept per watched market, the best first


def refresh(settings: Settings, db: Database, *, who: str, reread: bool = False,
            say: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> dict[str, Any]:
    """Score what the desk watches against the other venue and keep the suggestions found (module
    docstring); the run's row says how it went, also when it fails (CliError, in words)."""
    from storage.desk import pair_suggestions as store
    from storage.sqlite.db import now_ms

    try:
        run_id = store.start_run(db, who)
    except store.SuggestionRefused as exc:
        raise CliError(str(exc)) from None
    try:
        watched = store.watched_markets(db, listed_most=WATCHED_MOST)
        say(f"watching {len(watched.polymarket)} Polymarket and {len(watched.kalshi)} Kalshi market(s) not paired")
        read_at, listing = store.cached_listing(db)
        pages = 0
        if reread or read_at is None or now_ms() - read_at > LISTING_MAX_AGE_MS:
            def page_read(n: int, kept: int) -> None:
                store.progress(db, run_id, f"reading Kalshi's open markets: page {n} ({kept} binary so far)", pages=n)
                say(f"read page {n} of Kalshi's open markets ({kept} binary so far)")

            listing, pages = _read_listing(settings, page_read)
            read_at = now_ms()
            store.keep_listing(db, listing, read_at)
        else:
            say(f"Kalshi's listing as read {(now_ms() - read_at) // 60_000} min ago ({len(listing)} markets)")
        store.progress(db, run_id, "scoring", pages=pages)
        found = _scored(settings, db, watched, listing, say)
        store.store_found(db, found)
        store.finish_run(db, run_id, watched=len(watched.polymarket) + len(watched.kalshi), listed=len(listing),
                         listing_read_at=read_at, pages=pages, found=len(found))
    except CliError as exc:
        store.fail_run(db, run_id, str(exc))
        raise
    except Exception as exc:  # anything else: the run says so, then the error goes on
        store.fail_run(db, run_id, f"{type(exc).__name__}: {exc}")
        raise
    return {"run": run_id, "watched": len(watched.polymarket) + len(watched.kalshi), "listed": len(listing),
            "pages": pages, "found": len(found)}


def _scored(settings: Settings, db: Database, watched: Any, listing: list[Market],
            say: Callable[[str], None]) -> list[Found]:
    """Each watched market scored against the other venue's (both directions)."""
    from engine.feeds.pair_match import Index, Question, best_matches
    from storage.desk.pair_suggestions import Found, Market, paired_sides, polymarket_candidates

    def question(m: Market) -> Question:
        return Question(m.market, m.text, m.close_ms)

    def found(poly: Question, other: Question, side: str, match: Any) -> Found:
        return Found(Market(poly.market, poly.text, poly.close_ms), Market(other.market, other.text, other.close_ms),
                     side, match.score, {"parts": match.parts, "said": match.said})

    paired = paired_sides(db)
    unpaired = Index([question(m) for m in listing if m.market not in paired])
    out = [found(m.watched, m.found, "polymarket", m)
           for m in best_matches([question(m) for m in watched.polymarket], unpaired, per_market=PER_MARKET)]
    tickers = watched.kalshi
    if tickers:  # the other way: a Kalshi market a strategy names, against the desk's Polymarket markets
        named = _kalshi_watched(settings, tickers, {m.market: m for m in listing}, say)
        candidates = Index([question(m) for m in polymarket_candidates(db)])
        out += [found(m.found, m.watched, "kalshi", m)
                for m in best_matches([question(m) for m in named], candidates, per_market=PER_MARKET)]
    return out


def _read_listing(settings: Settings, page_read: Callable[[int, int], None]) -> tuple[list[Market], int]:
    """Kalshi's open binary markets, at most LISTING_PAGES pages, each paced by the desk's Kalshi client."""
    from engine.cli.pairs import _kalshi_read
    from storage.desk.pair_suggestions import Market

    async def read() -> tuple[list[Market], int]:
        from engine.venues.kalshi.client import KalshiClient

        assert settings.kalshi is not None
        client = KalshiClient.at(settings.kalshi.host)  # market data is public: no key needed
        kept: list[Market] = []
        pages = 0
        try:
            async for page in client.markets(status="open", max_pages=LISTING_PAGES):
                pages += 1
                kept += [Market(m.ticker, m.title, m.expected_expiration_ms or m.close_ms)
                         for m in page if m.kind == "binary"]
                page_read(pages, len(kept))
        finally:
            await client.close()
        return kept, pages

    found: tuple[list[Market], int] = _kalshi_read(settings, read, "market list")
    return found


def _kalshi_watched(settings: Settings, tickers: list[str], listed: dict[str, Market],
                    say: Callable[[str], None]) -> list[Market]:
    """The watched Kalshi markets' titles and close times: from the listing, else one read each (bounded)."""
    from engine.cli.pairs import kalshi_market

    out = []
    for ticker in tickers[:KALSHI_WATCHED_MOST]:
        if ticker in listed:
            out.append(listed[ticker])
            continue
        try:
            read = kalshi_market(settings, ticker)
        except CliError as exc:  # not there, closed, scalar: nothing to suggest for it
            say(f"Kalshi's {ticker} left out: {exc}")
            continue
        from storage.desk.pair_suggestions import Market

        out.append(Market(ticker, str(read["title"]), read["end_at"] or None))
    if len(tickers) > KALSHI_WATCHED_MOST:
        say(f"{len(tickers) - KALSHI_WATCHED_MOST} more Kalshi market(s) named by strategies left out this time")
    return out


# -- the verbs ------------------------------------------------------------------------------------------


def cmd_suggest(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk import pair_suggestions as store

    db = open_db(settings)
    if args.refresh:
        done = refresh(settings, db, who=actor(), reread=args.reread)
        print(f"refreshed: {done['found']} suggestion(s) from {done['watched']} watched market(s) against "
              f"{done['listed']} of the other venue's" + (f" ({done['pages']} page(s) read from Kalshi)"
                                                        if done["pages"] else " (Kalshi's listing as kept)"),
              file=sys.stderr)
    found = store.open_suggestions(db)
    if args.json:
        print(json.dumps([_as_dict(s) for s in found]))
        return 0
    last = store.last_run(db)
    if last is None:
        print("no suggestions yet: run `python -m engine pairs suggest --refresh` (or Refresh suggestions on the "
              "Markets page)")
        return 0
    if last.status == "failed":
        print(f"the last refresh failed: {last.detail}")
    for s in found:
        print(_described(s))
    if not found:
        print("no suggestion open: nothing the desk watches reads like a market of the other venue (or each was "
              "linked or rejected)")
    else:
        print("\nConfirm one after reading both side by side: python -m engine pairs accept <id> [--inverted]; "
              "not the same question: python -m engine pairs reject <id>")
    return 0


def _as_dict(s: Suggestion) -> dict[str, Any]:
    return {"id": s.id, "score": s.score, "watched": s.watched, "polymarket": s.condition_id,
            "polymarket_question": s.polymarket_question, "polymarket_end_at": s.polymarket_end_at,
            "kalshi": s.kalshi_ticker, "kalshi_title": s.kalshi_title, "kalshi_close_at": s.kalshi_close_at,
            "parts": s.parts.get("parts", {}), "said": s.parts.get("said", {})}


def _described(s: Suggestion) -> str:
    from engine.cli.pairs import _cut, _when

    said = s.parts.get("said", {})
    how = "; ".join(f"{name} {said[name]}" for name in ("wording", "numbers", "dates", "close") if name in said)
    return (f"{s.id:4}  score {s.score:3}  {_cut(s.polymarket_question, 70)}\n"
            f"      = Kalshi {s.kalshi_ticker}: {_cut(s.kalshi_title, 70)}\n"
            f"      ends {_when(s.polymarket_end_at)} on Polymarket, {_when(s.kalshi_close_at)} on Kalshi; "
            f"watched on {s.watched}\n      how: {how}")


def cmd_accept(settings: Settings, args: argparse.Namespace) -> int:
    """A suggestion linked as `pairs add` links a pair: both side by side, then a confirmation."""
    from engine.cli.pairs import cmd_add
    from storage.desk import pair_suggestions as store

    found = store.suggestion(open_db(settings), args.id)
    if found is None or found.status != "open":
        raise CliError(f"no open suggestion {args.id}" + (f" (it was {found.status})" if found else "") +
                       ": python -m engine pairs suggest lists them")
    print(_described(found) + "\n")
    return cmd_add(settings, argparse.Namespace(polymarket=found.condition_id, kalshi=found.kalshi_ticker,
                                                inverted=args.inverted, yes=args.yes))


def cmd_reject(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk import pair_suggestions as store

    try:
        found = store.reject(open_db(settings), args.id, actor=actor())
    except store.SuggestionRefused as exc:
        raise CliError(str(exc)) from None
    print(f"rejected suggestion {found.id}: {found.polymarket_question} is not Kalshi's {found.kalshi_ticker}; "
          "it is not offered again")
    return 0


def register(verbs: argparse._SubParsersAction) -> None:
    suggest = verbs.add_parser("suggest", help="markets of the other venue likely to ask the same question as those "
                                               "the desk watches, scored (to confirm or reject)")
    suggest.add_argument("--refresh", action="store_true", help="score again first (Kalshi's listing read at most "
                                                                "once an hour)")
    suggest.add_argument("--reread", action="store_true", help="with --refresh: read Kalshi's listing now")
    suggest.add_argument("--json", action="store_true", help="machine-readable output")
    suggest.set_defaults(func=cmd_suggest)
    accept = verbs.add_parser("accept", help="link a suggestion, after reading both side by side (as pairs add)")
    accept.add_argument("id", type=int)
    accept.add_argument("--inverted", action="store_true", help="Polymarket's YES is Kalshi's NO")
    accept.add_argument("--yes", action="store_true", help="link without asking (after reading the comparison)")
    accept.set_defaults(func=cmd_accept)
    reject = verbs.add_parser("reject", help="not the same question: never offer this suggestion again (audited)")
    reject.add_argument("id", type=int)
    reject.set_defaults(func=cmd_reject)
