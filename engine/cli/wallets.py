"""`python -m engine wallets top|score`: the wallet finder (engine/venues/polymarket/follow/finder.py), to choose
whom to follow.

`top` reads the venue's leaderboard (a category, its period, by PnL or volume) and scores each
wallet on it over a window of days of the operator's choosing: realized PnL and hit rate of what it
closed in the window, its trades, markets and volume, and how concentrated they are (the biggest
market's share). `score ADDRESS` scores one wallet. Both store what they found for the Strategies
page ("Wallets worth following") and print it; following a wallet is then the operator's act (the
Strategies page's followed wallets).

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from contracts.settings import Settings
from engine.cli.errors import CliError, open_db

if TYPE_CHECKING:
    from engine.venues.polymarket.follow.finder import Leader, Score
    from storage.engine_stores.follow_store import ScoreRow

CATEGORIES = ("OVERALL", "POLITICS", "SPORTS", "ESPORTS", "CRYPTO", "CULTURE", "MENTIONS", "WEATHER",
              "ECONOMICS", "TECH", "FINANCE")  # the venue's (venues/polymarket/follow/finder.py checks them again)
MAX_DAYS = 365
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _days(raw: str) -> int:
    try:
        days = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number of days") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"the window is 1 to {MAX_DAYS} days, not {days}")
    return days


def register(sub: argparse._SubParsersAction) -> None:
    wallets = sub.add_parser("wallets", help="the wallet finder: the venue's leaderboard, each wallet scored over a "
                                             "window (realized PnL, hit rate, market mix), to choose whom to follow")
    verbs = wallets.add_subparsers(dest="verb", required=True)
    top = verbs.add_parser("top", help="the leaderboard's wallets, each scored over the window")
    top.add_argument("--category", type=str.upper, choices=CATEGORIES, default="OVERALL")
    top.add_argument("--period", type=str.upper, choices=("DAY", "WEEK", "MONTH", "ALL"), default="MONTH",
                     help="the leaderboard's period (default MONTH)")
    top.add_argument("--by", type=str.upper, choices=("PNL", "VOL"), default="PNL", help="rank by (default PNL)")
    top.add_argument("--limit", type=int, default=10, choices=range(1, 51), metavar="1-50",
                     help="wallets read from the board (default 10)")
    top.add_argument("--days", type=_days, default=30, help="the window scored, in days (default 30)")
    top.add_argument("--json", action="store_true", help="machine-readable output")
    top.set_defaults(func=cmd_top)
    one = verbs.add_parser("score", help="one wallet, scored over the window")
    one.add_argument("address", help="the wallet's proxy address (0x and 40 hex), as its profile shows")
    one.add_argument("--days", type=_days, default=30, help="the window scored, in days (default 30)")
    one.add_argument("--json", action="store_true", help="machine-readable output")
    one.set_defaults(func=cmd_score)


def cmd_top(settings: Settings, args: argparse.Namespace) -> int:
    rows = _run(settings, lambda finder, now: _top(finder, args, now))
    _store_and_print(settings, rows, args.json,
                     f"{args.category} leaderboard, {args.period} by {args.by}; scored over the last {args.days} days")
    return 0


def cmd_score(settings: Settings, args: argparse.Namespace) -> int:
    if not ADDRESS.match(args.address):
        raise CliError(f"{args.address!r} is not a wallet address (0x and 40 hex digits)")
    wallet = args.address.lower()
    rows = _run(settings, lambda finder, now: _one(finder, wallet, args.days, now))
    _store_and_print(settings, rows, args.json, f"scored over the last {args.days} days")
    return 0


def _run(settings: Settings, work: Any) -> list[ScoreRow]:
    import asyncio

    from engine.venues.polymarket.follow.finder import FinderError, WalletFinder
    from storage.sqlite.db import now_ms

    async def run() -> list[ScoreRow]:
        finder = WalletFinder(settings.data_api_host)
        try:
            return list(await work(finder, now_ms()))
        finally:
            await finder.close()

    try:
        return asyncio.run(run())
    except FinderError as exc:
        raise CliError(str(exc)) from None


async def _top(finder: Any, args: argparse.Namespace, now: int) -> list[ScoreRow]:
    leaders = await finder.leaderboard(category=args.category, period=args.period, order_by=args.by, limit=args.limit)
    return [_row(leader, await finder.score(leader.wallet, args.days, now), args.category, args.period)
            for leader in leaders]


async def _one(finder: Any, wallet: str, days: int, now: int) -> list[ScoreRow]:
    return [_row(None, await finder.score(wallet, days, now), "", "")]


def _row(leader: Leader | None, score: Score, category: str, period: str) -> ScoreRow:
    from storage.engine_stores.follow_store import ScoreRow

    return ScoreRow(score.wallet, leader.name if leader else "", category, period, leader.rank if leader else None,
                    leader.pnl if leader else None, leader.volume if leader else None, score.window_days,
                    score.realized_pnl, score.closed, score.hit_rate, score.trades, score.markets, score.volume,
                    json.dumps(score.mix()), score.complete)


def _store_and_print(settings: Settings, rows: list[ScoreRow], as_json: bool, title: str) -> None:
    from storage.engine_stores.follow_store import save_scores
    from storage.sqlite.db import now_ms

    db = open_db(settings)
    try:
        save_scores(db, rows, now_ms())
    finally:
        db.dispose()
    if as_json:
        print(json.dumps([_json(r) for r in rows], indent=2))
        return
    print(title)
    if not rows:
        print("(the leaderboard listed nobody)")
        return
    print(f"{'rank':>4}  {'wallet':42}  {'name':16} {'board PnL':>12} {'realized':>12} {'hit':>5} {'closed':>6} "
          f"{'trades':>6} {'mkts':>4}  biggest market")
    for r in rows:
        mix = json.loads(r.mix)
        biggest = f"{mix[0][1] / 1e4:.0f}% {mix[0][0][:40]}" if mix else "-"
        partial = "" if r.complete else "  (partial: more than the API lists)"
        print(f"{r.rank if r.rank is not None else '-':>4}  {r.wallet:42}  {r.name[:16]:16} "
              f"{_usd(r.board_pnl):>12} {_usd(r.realized_pnl):>12} {_pct(r.hit_rate):>5} {r.closed:>6} "
              f"{r.trades:>6} {r.markets:>4}  {biggest}{partial}")
    print("Follow one on the Strategies page (Followed wallets), or not: past results are a lead, not a promise.")


def _usd(micros: int | None) -> str:
    return "-" if micros is None else f"{micros / 1e6:+,.2f}"


def _pct(micros: int | None) -> str:
    return "-" if micros is None else f"{micros / 1e4:.0f}%"


def _json(r: ScoreRow) -> dict[str, Any]:
    return {"rank": r.rank, "wallet": r.wallet, "name": r.name, "category": r.category or None,
            "period": r.period or None, "board_pnl": None if r.board_pnl is None else r.board_pnl / 1e6,
            "board_volume": None if r.board_volume is None else r.board_volume / 1e6, "window_days": r.window_days,
            "realized_pnl": r.realized_pnl / 1e6, "closed": r.closed,
            "hit_rate": None if r.hit_rate is None else r.hit_rate / 1e6, "trades": r.trades, "markets": r.markets,
            "volume": r.volume / 1e6, "mix": [[m, s / 1e6] for m, s in json.loads(r.mix)], "complete": r.complete}
