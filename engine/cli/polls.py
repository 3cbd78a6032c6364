"""`python -m engine polls show|link|unlink|list|post`: markets priced from a poll average.

`show` reads the poll feed (POLLS_FEED) once and prints each race: its polls, each option's average
share and its chance of leading (contracts/polls.py), to pick what to link; `link` ties a market to a
race's option by hand (the desk never matches them itself: a feed's race names and a market's
wording differ), audited; `post` posts each linked market's fair value through the outside-signals
path (engine/outside/polls.py), once or `--every` S seconds until stopped.

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from contracts.settings import Settings
from engine.cli.errors import EXIT_OK, CliError, actor, open_db

DEFAULT_SOURCE = "polls"  # the source name a poll average's values are posted and judged under
DEFAULT_TTL_S = 3_600


def _location(settings: Settings) -> str:
    from engine.cli import keystore

    settings = keystore.unlock_secrets(settings)  # a sealed feed URL: read with the passphrase
    if settings.polls_feed is None:
        raise CliError("POLLS_FEED is not set: put the poll feed's URL or a file path (CSV or JSON: "
                       "docs/strategies-and-risk.md, \"Political fair values from a poll average\") in .env")
    return settings.polls_feed.reveal()


def _feed(settings: Settings) -> Any:
    import asyncio

    from engine.outside.polls import PollFeedError, read_polls

    try:
        return asyncio.run(read_polls(_location(settings)))
    except PollFeedError as exc:
        raise CliError(f"the poll feed could not be read: {exc}") from None


def _weighting(args: argparse.Namespace) -> Any:
    from contracts.polls import HALF_LIFE_DAYS, POLL_ERROR_POINTS, PollError, Weighting

    try:
        return Weighting(half_life_days=HALF_LIFE_DAYS if args.half_life is None else args.half_life,
                         poll_error_points=POLL_ERROR_POINTS if args.error is None else args.error)
    except PollError as exc:
        raise CliError(str(exc)) from None


def _day(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.polls import race_view
    from storage.desk.poll_links import list_links
    from storage.sqlite.db import now_ms

    feed, weighting, now = _feed(settings), _weighting(args), now_ms()
    linked = {(link.race, link.option): link.condition_id for link in list_links(open_db(settings))}
    words = args.text.lower().split()
    shown = []
    for race, polls in sorted(feed.races().items()):
        if words and not all(w in race.lower() for w in words):
            continue
        view = race_view(polls, race, now, weighting)  # what the posted fair values read: the polls ended by now
        shown.append({"race": race, "polls": view.polls, "newest": view.newest_ms, "later": view.later,
                      "later_ends": view.later_ms,
                      "options": {o: None if f is None else {"share": f.shares[o], "chance": f.probability,
                                                             "confidence": f.confidence,
                                                             "linked": linked.get((race, o))}
                                  for o, f in view.fairs.items()}})
    if args.json:
        print(json.dumps({"races": shown, "left_out": feed.left_out, "reasons": list(feed.reasons)}))
        return EXIT_OK
    for race in shown:
        chances = ", ".join(_option_words(option, found) for option, found in race["options"].items())
        print(f"{race['race']}  ({_counted(race)}): {chances}")
    if not shown:
        print("No race in the feed matches.")
    if feed.left_out:
        print(f"{feed.left_out} row(s) or poll(s) left out: " + "; ".join(feed.reasons[:5]))
    return EXIT_OK


def _counted(race: dict[str, Any]) -> str:
    """"3 polls, newest ended 2026-11-20; 1 ending later (first 2099-01-01) left out until it ends"."""
    counted = (f"{race['polls']} poll{'s' if race['polls'] != 1 else ''}, newest ended {_day(race['newest'])}"
               if race["newest"] is not None else "no poll ended yet")
    if race["later"]:
        counted += (f"; {race['later']} ending later (first {_day(race['later_ends'])}) left out until "
                    f"{'it ends' if race['later'] == 1 else 'they end'}")
    return counted


def _option_words(option: str, found: dict[str, Any] | None) -> str:
    if found is None:
        return f"{option} —"
    link = f" [linked: {found['linked']}]" if found["linked"] else ""
    return f"{option} {found['share']:.1f} % (chance {found['chance']:.3f}){link}"


def cmd_link(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.poll_links import LinkRefused, add_link

    db = open_db(settings)
    if not args.offline:
        races = _feed(settings).races()
        if args.race not in races:
            raise CliError(f"the poll feed has no race {args.race!r} now (see `polls show`; --offline links anyway)")
        options = sorted({o for p in races[args.race] for o in p.shares})
        if args.option not in options:
            raise CliError(f"race {args.race!r} has no option {args.option!r}: its options are {', '.join(options)}")
    try:
        link = add_link(db, condition_id=args.market, race=args.race, option=args.option, actor=actor())
    except LinkRefused as exc:
        raise CliError(f"{exc}; nothing changed") from None
    print(f"Linked {link.question or link.condition_id!r} (YES = {link.option} leads the vote) to race {link.race!r} "
          "of the poll feed; `python -m engine polls post` posts its fair value.")
    return EXIT_OK


def cmd_unlink(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.poll_links import remove_link

    if not remove_link(open_db(settings), args.market, actor=actor()):
        raise CliError(f"market {args.market!r} is not linked to the poll feed")
    print(f"Unlinked {args.market} from the poll feed (the fair value it posted holds until it expires).")
    return EXIT_OK


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.poll_links import list_links

    links = list_links(open_db(settings))
    if args.json:
        print(json.dumps([asdict(link) for link in links]))
        return EXIT_OK
    for link in links:
        print(f"{link.condition_id}  {link.question[:60]!r}  YES = {link.option} leads race {link.race!r}")
    if not links:
        print("No market is linked to the poll feed (python -m engine polls link).")
    return EXIT_OK


def cmd_post(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.poll_links import list_links
    from storage.sqlite.db import now_ms

    if args.every is not None and args.ttl <= args.every:
        raise CliError(f"--ttl {args.ttl} must be longer than --every {args.every:g}: each value would expire before "
                       "the next round posts it again")
    weighting, location, db = _weighting(args), _location(settings), open_db(settings)
    if args.every is not None:
        return _keep_posting(settings, args, weighting, location)
    from engine.outside.polls import post_round

    links = list_links(db)
    if not links:
        raise CliError("no market is linked to the poll feed: link one first (python -m engine polls link)")
    posted = post_round(db, _feed(settings), links, now=now_ms(), weighting=weighting, source=args.source,
                        ttl_s=args.ttl, actor=actor())
    rows = [{"market": p.link.condition_id, "race": p.link.race, "option": p.link.option, "posted": p.post_id,
             "fair_value": None if p.fair is None else p.fair.probability,
             "confidence": None if p.fair is None else p.fair.confidence, "why_not": p.why_not or None}
            for p in posted]
    print(json.dumps({"source": args.source, "posts": rows}, indent=2))
    if not any(p.post_id is not None for p in posted):
        raise CliError("nothing posted: " + "; ".join(p.why_not for p in posted)[:500])
    return EXIT_OK


def _keep_posting(settings: Settings, args: argparse.Namespace, weighting: Any, location: str) -> int:
    import asyncio

    from contracts.settings import secret_values
    from engine.logs import configure_logging
    from engine.outside.polls import keep_posting
    from storage.sqlite.db import now_ms

    configure_logging(settings.log_level, secret_values(settings))  # the feed's URL is redacted from the log
    try:
        asyncio.run(keep_posting(open_db(settings), location, every_s=args.every, weighting=weighting,
                                 source=args.source, ttl_s=args.ttl, actor=actor(), clock_ms=now_ms))
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value < 10:
        raise argparse.ArgumentTypeError("at least 10 seconds")
    return value


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number, not {raw!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("a finite number")
    return value


def _weighting_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--half-life", type=_number, help="days after which a poll counts half (default 14)")
    parser.add_argument("--error", type=_number,
                        help="the polling error, in points of margin, beyond sampling (default 5)")


def register(sub: argparse._SubParsersAction) -> None:
    polls = sub.add_parser("polls", help="markets priced from a poll average (POLLS_FEED): show, link, list, unlink, "
                                         "post")
    verbs = polls.add_subparsers(dest="verb", required=True)
    show = verbs.add_parser("show", help="the feed's races: each option's average share and its chance of leading")
    show.add_argument("text", nargs="?", default="", help="words the race's name must hold")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    _weighting_options(show)
    show.set_defaults(func=cmd_show)
    link = verbs.add_parser("link", help="price a market from a race: its YES is the option leading the vote "
                                         "(audited)")
    link.add_argument("market", help="the market's condition id (0x…)")
    link.add_argument("race", help="the race, as the feed names it (see `polls show`)")
    link.add_argument("option", help="the option whose lead is the market's YES, as the feed names it")
    link.add_argument("--offline", action="store_true", help="link without checking the feed has the race now")
    link.set_defaults(func=cmd_link)
    unlink = verbs.add_parser("unlink", help="stop pricing a market from the poll feed (audited)")
    unlink.add_argument("market")
    unlink.set_defaults(func=cmd_unlink)
    listing = verbs.add_parser("list", help="the markets linked to the poll feed")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    post = verbs.add_parser("post", help="post each linked market's fair value as an outside signal")
    post.add_argument("--source", default=DEFAULT_SOURCE,
                      help=f"the source name its values are judged under (default {DEFAULT_SOURCE})")
    post.add_argument("--ttl", type=int, default=DEFAULT_TTL_S,
                      help=f"seconds each value holds (default {DEFAULT_TTL_S}; at most 7 days)")
    post.add_argument("--every", type=_seconds, help="keep posting every so many seconds (at least 10) until stopped")
    _weighting_options(post)
    post.set_defaults(func=cmd_post)
