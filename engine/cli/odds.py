"""`python -m engine odds show|link|list|unlink`: sports markets priced from bookmakers' odds.

`show` reads the odds feed (ODDS_FEED) once and prints each event with its outcomes' margin-free
probabilities (contracts/odds.py, Shin's method), to pick what to link; `link` ties a market to an
event's outcome by hand (the desk never matches them itself: team names and market wording differ
between a bookmaker and the venue), audited; the engine prices the market from it at its next
start or reload (`python -m engine command reload_config`).

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from contracts.settings import Settings
from engine.cli.errors import EXIT_OK, CliError, actor, open_db


def _events(settings: Settings) -> dict[str, Any]:
    import asyncio

    from contracts.jsonsafe import JsonRefused, loads_bounded
    from contracts.odds import OddsError, parse_events
    from engine.cli import keystore
    from engine.feeds.odds_reference import MAX_BYTES, OddsFeedError, read_feed

    settings = keystore.unlock_secrets(settings)  # a sealed feed URL: read with the passphrase
    if settings.odds_feed is None:
        raise CliError("ODDS_FEED is not set: put the odds feed's URL (The Odds API v4 layout, oddsFormat=decimal) or "
                       "a file path in .env")
    try:
        body = asyncio.run(read_feed(settings.odds_feed.reveal()))
        return parse_events(loads_bounded(body, max_bytes=MAX_BYTES, max_depth=8, what="the odds feed"))
    except (OddsFeedError, OddsError, JsonRefused) as exc:
        raise CliError(f"the odds feed could not be read: {exc}") from None


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.odds import fair_probability
    from storage.sqlite.db import now_ms

    words = args.text.lower().split()
    shown = []
    for event in _events(settings).values():
        if words and not all(w in f"{event.home} {event.away}".lower() for w in words):
            continue
        fair = {o: fair_probability(event, o, now_ms=now_ms(), max_age_ms=args.max_age * 1000)
                for o in event.outcomes}
        shown.append({"event_id": event.id, "home": event.home, "away": event.away, "commence_at": event.commence_ms,
                      "bookmakers": len(event.books),
                      "fair": {o: None if f is None else f[0] / 1e6 for o, f in fair.items()}})
    if args.json:
        print(json.dumps(shown))
        return EXIT_OK
    for event in shown:
        line = ", ".join(f"{o} {'—' if p is None else f'{p:.3f}'}" for o, p in event["fair"].items())
        print(f"{event['event_id']}  {event['home']} v {event['away']}  ({event['bookmakers']} bookmakers): {line}")
    if not shown:
        print("No event in the feed matches.")
    return EXIT_OK


def cmd_link(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.odds_links import LinkRefused, add_link

    db = open_db(settings)
    if not args.offline:
        event = _events(settings).get(args.event)
        if event is None:
            raise CliError(f"the odds feed has no event {args.event!r} now (see `odds show`; --offline links anyway)")
        if args.outcome not in event.outcomes:
            raise CliError(f"event {args.event} has no outcome {args.outcome!r}: its outcomes are "
                           f"{', '.join(event.outcomes)}")
    try:
        link = add_link(db, condition_id=args.market, event_id=args.event, outcome=args.outcome, actor=actor())
    except LinkRefused as exc:
        raise CliError(f"{exc}; nothing changed") from None
    print(f"Linked {link.question or link.condition_id!r} (YES = {link.outcome} wins) to odds event {link.event_id}; "
          "the engine prices it from the odds at its next start or reload (python -m engine command reload_config).")
    return EXIT_OK


def cmd_unlink(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.odds_links import remove_link

    if not remove_link(open_db(settings), args.market, actor=actor()):
        raise CliError(f"market {args.market!r} is not linked to the odds feed")
    print(f"Unlinked {args.market} from the odds feed.")
    return EXIT_OK


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.odds_links import list_links

    links = list_links(open_db(settings))
    if args.json:
        print(json.dumps([asdict(link) for link in links]))
        return EXIT_OK
    for link in links:
        print(f"{link.condition_id}  {link.question[:60]!r}  YES = {link.outcome} wins, event {link.event_id}")
    if not links:
        print("No market is linked to the odds feed (python -m engine odds link).")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    odds = sub.add_parser("odds", help="sports markets priced from bookmakers' odds (ODDS_FEED): show, link, list, "
                                       "unlink")
    verbs = odds.add_subparsers(dest="verb", required=True)
    show = verbs.add_parser("show", help="the feed's events with each outcome's margin-free probability")
    show.add_argument("text", nargs="?", default="", help="words both team names together must hold")
    show.add_argument("--max-age", type=int, default=600, help="leave out bookmakers older than this many seconds")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=cmd_show)
    link = verbs.add_parser("link", help="price a market from an odds event: its YES is the outcome's win (audited)")
    link.add_argument("market", help="the market's condition id (0x…)")
    link.add_argument("event", help="the odds feed's event id (see `odds show`)")
    link.add_argument("outcome", help="the outcome whose win is the market's YES, as the feed names it")
    link.add_argument("--offline", action="store_true", help="link without checking the feed has the event now")
    link.set_defaults(func=cmd_link)
    unlink = verbs.add_parser("unlink", help="stop pricing a market from the odds feed (audited)")
    unlink.add_argument("market")
    unlink.set_defaults(func=cmd_unlink)
    listing = verbs.add_parser("list", help="the markets linked to the odds feed")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
