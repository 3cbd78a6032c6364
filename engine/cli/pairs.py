"""`python -m engine pairs find|add|list|remove`: link a Polymarket market to the Kalshi market the
operator judges to be the same question, by hand (storage/desk/venue_pairs.py); `suggest|accept|reject`:
the same question on the other venue proposed for the markets the desk watches (engine/cli/pair_suggest.py).

The desk never links markets by itself: wording, resolution sources and end dates differ between
venues, and published scans find about half of apparent cross-venue spreads vanish once that is
read. So `add` shows both markets side by side (question, rules, resolution source, end time),
says where they differ, and asks before it stores the link (audited); `--inverted` links
Polymarket's YES to Kalshi's NO (a question asked the other way round).

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime
from difflib import SequenceMatcher
from typing import Any

from contracts.cross_venue import FIND_EXAMPLE
from contracts.settings import Settings
from contracts.venues import desk_venue, venue_of
from engine.cli.errors import CliError, actor, open_db

END_GAP_MS = 24 * 3_600_000  # end times further apart than a day are worth a warning
SIMILAR = 0.6  # questions whose wording matches less than this are worth a warning
RULES = 1200  # characters of each market's rules shown
SPREAD_MARGIN = 0.01  # `pairs spreads`: kept a share after fees (engine/cli/pair_spreads.py)
SPREAD_CAPITAL = 1_000.0  # `pairs spreads`: dollars each venue may spend on a pair


def _when(at_ms: int | None) -> str:
    return "unknown" if not at_ms else datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def warnings(poly: dict[str, Any], kalshi: dict[str, Any], inverted: bool) -> list[str]:
    """Where the two markets differ in what decides them (the operator reads, the desk only points)."""
    found = []
    if poly["end_at"] and kalshi["end_at"] and abs(poly["end_at"] - kalshi["end_at"]) > END_GAP_MS:
        days = abs(poly["end_at"] - kalshi["end_at"]) / 86_400_000
        found.append(f"end times differ by {days:.1f} days ({_when(poly['end_at'])} on Polymarket, "
                     f"{_when(kalshi['end_at'])} on Kalshi): one may resolve on news the other has not seen")
    ratio = SequenceMatcher(None, poly["question"].lower(), kalshi["title"].lower()).ratio()
    if ratio < SIMILAR:
        found.append(f"the questions read differently ({ratio:.0%} alike): check both rules say the same event"
                     + (" the other way round (--inverted)" if inverted else ""))
    if not poly["resolution_source"]:
        found.append("Polymarket names no resolution source for this market: read its rules")
    if kalshi["status"] != "active":
        found.append(f"the Kalshi market is {kalshi['status']}, not open for trading")
    return found


def _polymarket(settings: Settings, db: Any, condition_id: str) -> dict[str, Any]:
    from storage.desk.venue_pairs import polymarket_market

    if venue_of(condition_id) != desk_venue() or not condition_id.startswith("0x"):
        raise CliError(f"{condition_id!r} is not a Polymarket market: give its condition id (0x…), and the Kalshi "
                       "ticker second")
    found = polymarket_market(db, condition_id)
    if found is None:
        raise CliError(f"no Polymarket market {condition_id} in the desk's list: run the desk once so it discovers "
                       "markets, or check the id")
    if found["closed"] or found["resolved_outcome"]:
        raise CliError(f"the Polymarket market {condition_id} is closed: nothing to pair")
    return {**found, **_gamma_rules(settings, condition_id)}


def _gamma_rules(settings: Settings, condition_id: str) -> dict[str, str]:
    """Its rules and resolution source as Gamma gives them ("" when Gamma does not answer), read
    with the desk's REST client (its Gamma rate limit, timeout and retries)."""
    import asyncio

    from engine.venues.polymarket.rest import RestClient

    async def read() -> Any:
        client = RestClient(settings.gamma_host)
        try:
            return await client.get_json("/markets", {"condition_ids": condition_id}, family="gamma")
        finally:
            await client.close()

    try:
        rows = asyncio.run(read())
    except Exception:  # Gamma down or refusing: the comparison says it did not answer
        rows = []
    row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    return {"rules": str(row.get("description") or ""), "resolution_source": str(row.get("resolutionSource") or "")}


def kalshi_market(settings: Settings, ticker: str) -> dict[str, Any]:
    """What a pair shows of a Kalshi market (its title, status, rules, end, price grid and its series'
    fees), read from Kalshi; CliError (never a traceback) when it cannot be, or is not binary."""
    if ticker.startswith("0x"):
        raise CliError(f"{ticker!r} is a Polymarket condition id: a pair links one market of each venue (Polymarket "
                       "first, then the Kalshi ticker)")
    assert settings.kalshi is not None
    host = settings.kalshi.host

    async def read() -> dict[str, Any]:
        from contracts.venues.kalshi.grid import bands_json
        from engine.venues.kalshi.client import KalshiClient

        client = KalshiClient.at(host)  # market data is public: no key needed
        try:
            market = await client.market(ticker)
            event = await client.event(market.event_ticker)
            series = await client.series(event.series_ticker)
        finally:
            await client.close()
        fees = event.fees or series  # the event's override, when it has one, over its series' fees
        end = market.expected_expiration_ms or market.close_ms
        return {"ticker": market.ticker, "title": market.title, "status": market.status,
                "market_type": market.kind, "rules": market.rules, "end_at": end,
                "price_grid": bands_json(market.price_ranges), "fee_type": fees.fee_type,
                "fee_multiplier_ppm": fees.fee_multiplier.numerator * 1_000_000 // fees.fee_multiplier.denominator,
                "categories": list(series.categories)}

    found = _kalshi_read(settings, read, f"market {ticker}")
    if found["market_type"] != "binary":  # a scalar's YES pays a value, not 1/0: no binary question to pair
        raise CliError(f"Kalshi's {ticker} is a {found['market_type']} market (a YES contract pays a value between $0 "
                       "and $1, not $1 or nothing, or part of it before settlement): the desk pairs and trades binary "
                       "markets settled whole only")
    return found


def _kalshi_read(settings: Settings, read: Any, what: str) -> Any:
    """Run a read of Kalshi's; its failures in words (a 404 as not there, the network, a shape)."""
    import asyncio

    from engine.venues.kalshi.fixed import KalshiShapeError
    from engine.venues.kalshi.http import KalshiError

    assert settings.kalshi is not None
    host = settings.kalshi.host
    try:
        return asyncio.run(read())
    except KalshiError as exc:
        if exc.status == 404:
            raise CliError(f"Kalshi has no {what} (404) at {host}: {exc}") from None
        raise CliError(f"Kalshi could not be reached at {host}, reading {what}: {exc}") from None
    except KalshiShapeError as exc:
        raise CliError(f"Kalshi answered {what} in a shape the desk cannot read: {exc}") from None


def side_by_side(poly: dict[str, Any], kalshi: dict[str, Any], inverted: bool) -> str:
    """The short facts in two columns, then each market's rules in full (wrapped, at most RULES chars)."""
    rows = [("question", poly["question"], kalshi["title"]),
            ("YES means", "YES", "NO" if inverted else "YES"),
            ("ends", _when(poly["end_at"]), _when(kalshi["end_at"])),
            ("resolution source", poly["resolution_source"] or "(not given)", "(in the rules)"),
            ("categories", "-", ", ".join(kalshi.get("categories") or ()) or "(none listed)")]  # Kalshi's Series
    lines = [f"{'':18} {'Polymarket ' + poly['condition_id'][:12] + '…':50} Kalshi {kalshi['ticker']}"]
    lines += [f"{name:18} {_cut(left, 50):50} {right}" for name, left, right in rows]
    for venue, rules in (("Polymarket", poly["rules"] or "(Gamma did not answer)"), ("Kalshi", kalshi["rules"])):
        lines += ["", f"{venue} rules:", *textwrap.wrap(_cut(rules, RULES), 100, initial_indent="  ",
                                                            subsequent_indent="  ")]
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def compare(settings: Settings, db: Any, condition_id: str, ticker: str, inverted: bool) -> dict[str, Any]:
    """Both markets' facts (question or title, rules, resolution source, end time, status; Kalshi's
    price grid and fees) and where they differ: what the operator reads before linking them (raises
    CliError, in words, when either cannot be read or paired)."""
    poly = _polymarket(settings, db, condition_id)
    kalshi = kalshi_market(settings, ticker)
    return {"polymarket": poly, "kalshi": kalshi, "inverted": inverted, "warnings": warnings(poly, kalshi, inverted)}


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    """The comparison `add` shows, without linking (`--json` for the dashboard's Markets page)."""
    found = compare(settings, open_db(settings), args.polymarket, args.kalshi, args.inverted)
    if args.json:
        print(json.dumps(found))
        return 0
    print(side_by_side(found["polymarket"], found["kalshi"], args.inverted))
    for warning in found["warnings"]:
        print(f"WARNING: {warning}")
    return 0


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.venue_pairs import PairRefused, add_pair

    db = open_db(settings)
    compared = compare(settings, db, args.polymarket, args.kalshi, args.inverted)
    poly, kalshi, found = compared["polymarket"], compared["kalshi"], compared["warnings"]
    print(side_by_side(poly, kalshi, args.inverted))
    for warning in found:
        print(f"WARNING: {warning}")
    if not args.yes and not _confirmed():
        print("not linked")
        return 1
    try:
        pair = add_pair(db, condition_id=poly["condition_id"], kalshi_ticker=kalshi["ticker"], inverted=args.inverted,
                        polymarket_question=poly["question"], kalshi_title=kalshi["title"], warnings=found,
                        actor=actor())
    except PairRefused as exc:
        raise CliError(str(exc)) from None
    keep_facts(db, kalshi)
    print(f"linked as pair {pair.id}" + (f" with {len(found)} warning(s) noted" if found else ""))
    _reload(db)
    return 0


def keep_facts(db: Any, kalshi: Mapping[str, Any]) -> None:
    """What was read of the Kalshi market, kept with its pair (its grid and fees price paper at once)."""
    from storage.desk.venue_pairs import KalshiFacts, set_kalshi_facts

    set_kalshi_facts(db, kalshi["ticker"], KalshiFacts(kalshi["price_grid"], kalshi["fee_type"],
                                                        kalshi["fee_multiplier_ppm"], kalshi["status"]))


def _reload(db: Any) -> None:
    """A running engine reads the pairs again (its cross-venue prices); a stopped one reads them at start."""
    from storage.command_queue.commands import post_command
    from storage.sqlite.db import DatabaseBusy

    try:
        post_command(db, "reload_config", {"reason": "venue pairs changed"}, actor=actor())
    except DatabaseBusy as exc:
        print(f"the running engine reads the change at its next reload ({exc})", file=sys.stderr)


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        print("not linked: no terminal to confirm at (pass --yes after reading the above)", file=sys.stderr)
        return False
    print("Are these the same question? link them [y/N] ", end="", flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.venue_pairs import list_pairs

    pairs: list[dict[str, Any]] = [
        {"id": p.id, "polymarket": p.condition_id, "kalshi": p.kalshi_ticker, "inverted": p.inverted,
         "polymarket_question": p.polymarket_question, "kalshi_title": p.kalshi_title,
         "warnings": list(p.warnings), "linked_by": p.created_by, "linked_at": _when(p.created_at)}
        for p in list_pairs(open_db(settings))]
    print(json.dumps(pairs, indent=2) if args.json else "\n".join(
        f"{p['id']:4}  {p['polymarket'][:14]}…  {'NO ' if p['inverted'] else 'YES'}= {p['kalshi']}  "
        f"{p['polymarket_question'][:60]}" + (f"  ({len(p['warnings'])} warning(s))" if p["warnings"] else "")
        for p in pairs) or "no pairs")
    return 0


def cmd_remove(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.venue_pairs import PairRefused, remove_pair

    db = open_db(settings)
    try:
        pair = remove_pair(db, args.id, actor=actor())
    except PairRefused as exc:
        raise CliError(str(exc)) from None
    print(f"unlinked pair {pair.id}: {pair.condition_id} and {pair.kalshi_ticker}")
    _reload(db)
    return 0


FIND_PAGES = 20  # pages of Kalshi's open markets read at most (1,000 markets a page, parlay legs left out)
FIND_SHOWN = 15


def find(settings: Settings, db: Any, text: str, *, limit: int = FIND_SHOWN) -> dict[str, Any]:
    """Markets whose wording holds every word of `text`, on both venues, to pick a pair from (never
    linked here): {"polymarket": [{condition_id, question}], "kalshi": [{ticker, title, yes_bid, yes_ask}]
    (Kalshi's open binary markets, the YES bid and ask in cents, sub-penny prices as decimals: 45.5 is
    $0.4550), "kalshi_more": how many more Kalshi found}. Kalshi's multivariate (parlay) legs are left
    out (`mve_filter=exclude`): they fill its market list and are never a question to pair."""
    from storage.desk.venue_pairs import polymarket_search

    words = text.lower().split()
    if not words:
        raise CliError("say what to look for, e.g. pairs find \"fed cut december\"")
    poly = polymarket_search(db, words, limit)
    kalshi = kalshi_search(settings, words)
    return {"polymarket": poly, "kalshi": kalshi[:limit], "kalshi_more": max(0, len(kalshi) - limit)}


def kalshi_search(settings: Settings, words: list[str]) -> list[dict[str, Any]]:
    """Kalshi's open binary markets whose title holds every word (or whose ticker is the words)."""
    wanted = " ".join(words).upper()

    async def read() -> list[dict[str, Any]]:
        from engine.venues.kalshi.client import KalshiClient

        assert settings.kalshi is not None
        client = KalshiClient.at(settings.kalshi.host)
        found: list[dict[str, Any]] = []
        try:
            async for page in client.markets(status="open", max_pages=FIND_PAGES):
                found += [{"ticker": m.ticker, "title": m.title, "yes_bid": m.yes_bid / 10_000,
                           "yes_ask": m.yes_ask / 10_000}
                          for m in page if m.kind == "binary"
                          and (all(w in m.title.lower() for w in words) or wanted in m.ticker)]
        finally:
            await client.close()
        return found

    found: list[dict[str, Any]] = _kalshi_read(settings, read, "market list")
    return found


def cmd_find(settings: Settings, args: argparse.Namespace) -> int:
    found = find(settings, open_db(settings), args.text)
    if args.json:
        print(json.dumps(found))
        return 0
    print(f"Polymarket (the desk's markets) matching {args.text!r}:")
    print("\n".join(f"  {m['condition_id']}  {_cut(str(m['question']), 90)}" for m in found["polymarket"]) or "  none")
    print(f"Kalshi (open markets, parlay legs left out) matching {args.text!r}:")
    print("\n".join(f"  {m['ticker']:32} {_cut(m['title'], 70)}  bid {m['yes_bid'] / 100:.4f} "
                    f"ask {m['yes_ask'] / 100:.4f}" for m in found["kalshi"]) or "  none")
    if found["kalshi_more"]:
        print(f"  … and {found['kalshi_more']} more (add words to narrow it)")
    print("Link one of each after reading both: python -m engine pairs add <condition id> <ticker>")
    return 0


def register(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `pairs` command and its verbs; returns them (engine/cli/pair_suggest.py adds `suggest`, ...)."""
    pairs = sub.add_parser("pairs", help="markets linked by hand across venues (Polymarket and Kalshi): find, add, "
                                         "list, remove, spreads; suggest, accept, reject")
    verbs = pairs.add_subparsers(dest="verb", required=True)
    find = verbs.add_parser("find", help="markets on both venues whose wording holds these words (to pick a pair)")
    find.add_argument("text", help=f"words every market shown must hold, e.g. \"{FIND_EXAMPLE}\"")
    find.add_argument("--json", action="store_true", help="machine-readable output")
    find.set_defaults(func=cmd_find)
    show = _two_markets(verbs, "show", "both markets side by side and where they differ, without linking them")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=cmd_show)
    add = _two_markets(verbs, "add", "link a Polymarket market to a Kalshi market, after reading both side by side")
    add.add_argument("--yes", action="store_true", help="link without asking (after reading the comparison)")
    add.set_defaults(func=cmd_add)
    listing = verbs.add_parser("list", help="every pair, with the warnings shown when it was linked")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    remove = verbs.add_parser("remove", help="unlink a pair (audited)")
    remove.add_argument("id", type=int)
    remove.set_defaults(func=cmd_remove)
    spread = verbs.add_parser("spreads", help="what buying one side on each venue would lock in now, after both "
                                              "venues' fees, as deep as both books go (places nothing)")
    spread.add_argument("--margin", type=float, default=SPREAD_MARGIN,
                        help=f"keep at least this a share after fees (default {SPREAD_MARGIN})")
    spread.add_argument("--capital", type=float, default=SPREAD_CAPITAL,
                        help=f"dollars each venue may spend on a pair (default {SPREAD_CAPITAL:g})")
    spread.add_argument("--json", action="store_true", help="machine-readable output")
    spread.set_defaults(func=cmd_spreads)
    return verbs


def _two_markets(verbs: argparse._SubParsersAction, verb: str, what: str) -> argparse.ArgumentParser:
    """A verb naming one market of each venue (show, add)."""
    parser: argparse.ArgumentParser = verbs.add_parser(verb, help=what)
    parser.add_argument("polymarket", help="the Polymarket market's condition id (0x…)")
    parser.add_argument("kalshi", help="the Kalshi market's ticker")
    parser.add_argument("--inverted", action="store_true", help="Polymarket's YES is Kalshi's NO")
    return parser


def cmd_spreads(settings: Settings, args: argparse.Namespace) -> int:
    from engine.cli.pair_spreads import cmd_spreads as run  # its imports only when asked

    return run(settings, args)
