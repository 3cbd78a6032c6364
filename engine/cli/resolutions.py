"""`python -m engine resolutions set|list`: how markets ended, for backtests to settle at
(storage/research/market_resolutions.py). The recorder keeps what the feed tells and the imports read the
venue's record; where neither knows (an archive imported before the market ended, a market resolved before
the desk kept their times), the trader gives it here, one market at a time or from a CSV file of
`market,outcome,at` lines. The trader's word replaces what the desk had for that market (audited).

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.settings import Settings
from engine.cli import args as cli_args
from engine.cli.errors import CliError, actor, open_db

if TYPE_CHECKING:
    from contracts.resolutions import Resolution
    from storage.sqlite.db import Database

MOST_LINES = 10_000  # a file of resolutions: more is a mistake (a tick export), not a list of markets
OUTCOME_HELP = "yes, no, void (Kalshi: paid back at cost), or what a YES share paid (0.5 for a 50/50)"


def cmd_set(settings: Settings, args: argparse.Namespace) -> int:
    from storage.research import market_resolutions

    if (args.file is None) == (args.market is None):
        raise CliError("give one market (MARKET OUTCOME --at TIME) or a file of them (--file FILE.csv), one of the two")
    if args.file is not None:
        if args.outcome is not None or args.at is not None:
            raise CliError("--file gives each market's outcome and time: drop OUTCOME and --at")
        given = _from_file(Path(args.file).expanduser())
    else:
        if args.outcome is None or args.at is None:
            raise CliError("a market's end needs its OUTCOME and --at TIME (when the venue ended it, UTC)")
        given = [_resolution(args.market, args.outcome, args.at, "the command line")]
    db = open_db(settings)
    _check_markets(db, given)
    before = market_resolutions.set_by_trader(db, given, actor=actor())
    print(json.dumps({"set": [r.as_json() | {"outcome": r.label} for r in given],
                      "replaced": [b for b in before if b["before"] is not None]}, indent=2))
    return 0


def _resolution(market: str, outcome: str, at: int, where: str) -> Resolution:
    from contracts.market_rows import CONDITION_ID
    from contracts.resolutions import Resolution, ResolutionError, parse_outcome
    from contracts.venues.kalshi import ids as kalshi_ids

    market = market.strip()
    kalshi = market.startswith(kalshi_ids.PREFIX)
    if not (kalshi and len(market) > len(kalshi_ids.PREFIX)) and not CONDITION_ID.fullmatch(market):
        raise CliError(f"{where}: {market[:80]!r} is not a market: a Polymarket condition id (0x and 64 hex "
                       "digits) or a Kalshi market (kalshi:TICKER)")
    try:
        kind, pays = parse_outcome(outcome)
    except ResolutionError as exc:
        raise CliError(f"{where}: {exc}") from None
    if kind == "void" and not kalshi:
        raise CliError(f"{where}: Polymarket voids no market; a canceled one pays 0.5/0.5 (give 0.5)")
    return Resolution(market, at, kind, pays, "trader")


def _from_file(path: Path) -> list[Resolution]:
    """`market,outcome,at` lines (a header line and lines starting with # are skipped), each checked."""
    if not path.is_file():
        raise CliError(f"no file {str(path)!r}")
    found: dict[str, Resolution] = {}
    try:
        with path.open(encoding="utf-8", newline="") as lines:
            for number, row in enumerate(csv.reader(lines), start=1):
                if number > MOST_LINES:
                    raise CliError(f"{path}: more than {MOST_LINES:,} lines: not a list of markets' ends")
                if not row or row[0].strip().startswith("#") or [c.strip().lower() for c in row[:1]] == ["market"]:
                    continue
                found[row[0].strip()] = _line(row, f"{path.name} line {number}")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"{path}: cannot be read ({exc})") from None
    if not found:
        raise CliError(f"{path}: no `market,outcome,at` line in it")
    return list(found.values())


def _line(row: list[str], where: str) -> Resolution:
    if len(row) != 3:
        raise CliError(f"{where}: give market,outcome,at ({OUTCOME_HELP}; at: ISO 8601 UTC or epoch ms)")
    try:
        at = cli_args.utc_time(row[2])
    except argparse.ArgumentTypeError as exc:
        raise CliError(f"{where}: {exc}") from None
    return _resolution(row[0], row[1], at, where)


def _check_markets(db: Database, given: list[Resolution]) -> None:
    from storage.research.market_resolutions import unknown_markets

    unknown = unknown_markets(db, [r.condition_id for r in given])
    if unknown:
        raise CliError(f"not markets this desk knows (discovered, imported, or a paired Kalshi market): "
                       f"{', '.join(unknown[:10])}; nothing was set")


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.resolutions import SAID, utc
    from storage.research import market_resolutions

    wanted = [m.strip() for m in (args.market or "").split(",") if m.strip()]
    rows = market_resolutions.listed(open_db(settings), wanted)
    shown: list[dict[str, Any]] = [{**r, "at_utc": utc(r["at"]), "source": SAID.get(r["source"], r["source"])}
                                   for r in rows]
    print(json.dumps(shown, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    ends = sub.add_parser("resolutions", help="how markets ended, for backtests to settle at: set (by hand, or a "
                                              "file), list")
    verbs = ends.add_subparsers(dest="verb", required=True)
    setting = verbs.add_parser("set", help="give a market's end (replaces what the desk had for it; audited)")
    setting.add_argument("market", nargs="?", help="a condition id, or kalshi:TICKER")
    setting.add_argument("outcome", nargs="?", help=OUTCOME_HELP)
    setting.add_argument("--at", type=cli_args.utc_time, help="when the venue ended it (ISO 8601 UTC, or epoch ms)")
    setting.add_argument("--file", help="a CSV file of market,outcome,at lines instead (a header line is allowed)")
    setting.set_defaults(func=cmd_set)
    listing = verbs.add_parser("list", help="the markets' ends the desk knows, newest first")
    listing.add_argument("--market", help="comma-separated markets (default: all)")
    listing.set_defaults(func=cmd_list)
