"""The wallet finder: whom to follow, from the venue's own figures (`python -m engine wallets`,
the Strategies page's "Wallets worth following").

The Data API's leaderboard (`GET /v1/leaderboard`: `category`, `timePeriod` DAY/WEEK/MONTH/ALL,
`orderBy` PNL/VOL, `limit` at most 50) names the candidates with the venue's PnL and volume over
its period. The board's PnL counts what a wallet still holds at today's prices, so each candidate
is then scored over a window the operator chooses, from what it closed and traded in it:

- realized PnL and hit rate: its closed positions (`GET /closed-positions`, newest first, 50 a
  page) whose close falls in the window: the sum of `realizedPnl`, and the share closed at a
  profit. A wallet that holds its winners open scores less here than on the board: that is the
  point of reading both.
- market mix: its trades in the window (`GET /trades`, `takerOnly=false`, 500 a page): how many,
  in how many markets, their volume, and the biggest markets' shares of it (a wallet that made
  its money in one market is not one to copy everywhere).

A read that stops short (the API's deepest page, or MAX_PAGES) marks the score incomplete, never
silently partial; a row that does not read is counted (`refused`) and left out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.domain import ONE, to_micros
from engine.venues.polymarket.follow.trades import at_ms, unreadable
from engine.venues.polymarket.rest import RestClient

CATEGORIES = ("OVERALL", "POLITICS", "SPORTS", "ESPORTS", "CRYPTO", "CULTURE", "MENTIONS", "WEATHER",
              "ECONOMICS", "TECH", "FINANCE")
PERIODS = ("DAY", "WEEK", "MONTH", "ALL")
ORDERS = ("PNL", "VOL")
BOARD_MAX = 50  # the leaderboard's largest page
CLOSED_PAGE, CLOSED_OFFSET = 50, 100_000
TRADES_PAGE, TRADES_OFFSET = 500, 10_000
MAX_PAGES = 40  # per wallet and endpoint: 2,000 closed positions, 20,000 trades
MIX_TOP = 5
DAY_MS = 86_400_000


class FinderError(Exception):
    """The Data API could not be read (its words), or answered something that is not a list."""


@dataclass(frozen=True)
class Leader:
    rank: int
    wallet: str
    name: str
    pnl: int  # micro-pUSD, the board's period
    volume: int


@dataclass
class Score:
    wallet: str
    window_days: int
    realized_pnl: int = 0  # micro-pUSD
    closed: int = 0
    won: int = 0
    trades: int = 0
    volume: int = 0  # micro-pUSD
    by_market: Counter[str] = field(default_factory=Counter)  # title -> volume
    complete: bool = True

    @property
    def hit_rate(self) -> int | None:
        """Closed at a profit, in micro-units of one (None: nothing closed)."""
        return None if not self.closed else self.won * ONE // self.closed

    @property
    def markets(self) -> int:
        return len(self.by_market)

    def mix(self) -> list[tuple[str, int]]:
        """The biggest markets' shares of the volume (micro-units of one), then the rest as "other"."""
        if not self.volume:
            return []
        top = self.by_market.most_common(MIX_TOP)
        shares = [(title, v * ONE // self.volume) for title, v in top]
        rest = self.volume - sum(v for _, v in top)
        return shares + ([("other", rest * ONE // self.volume)] if rest > 0 else [])


class WalletFinder:
    def __init__(self, data_api_host: str) -> None:
        self.rest = RestClient(data_api_host)
        self.refused: Counter[str] = Counter()

    async def close(self) -> None:
        await self.rest.close()

    async def _get(self, path: str, params: Mapping[str, Any]) -> list[Any]:
        try:
            rows = await self.rest.get_json(path, dict(params), family="data_api")
        except Exception as exc:  # the network or the API's refusal, in its words
            raise FinderError(f"the Data API's {path} could not be read: {str(exc)[:300]}") from None
        if not isinstance(rows, list):
            raise FinderError(f"the Data API's {path} answered something that is not a list")
        return rows

    async def leaderboard(self, *, category: str = "OVERALL", period: str = "WEEK", order_by: str = "PNL",
                          limit: int = 20) -> list[Leader]:
        if category not in CATEGORIES or period not in PERIODS or order_by not in ORDERS:
            raise FinderError(f"category must be one of {', '.join(CATEGORIES)}, period one of "
                              f"{', '.join(PERIODS)} and order one of {', '.join(ORDERS)}")
        if not 1 <= limit <= BOARD_MAX:
            raise FinderError(f"the leaderboard lists 1 to {BOARD_MAX} wallets a read, not {limit}")
        rows = await self._get("/v1/leaderboard", {"category": category, "timePeriod": period, "orderBy": order_by,
                                                   "limit": limit})
        leaders = []
        for row in rows:
            leader = _leader(row)
            if leader is None:
                self.refused["a leaderboard row that does not read"] += 1
            else:
                leaders.append(leader)
        return leaders

    async def score(self, wallet: str, days: int, now_ms: int) -> Score:
        """What `wallet` closed and traded in the last `days` days."""
        since_s = (now_ms - days * DAY_MS) // 1000
        score = Score(wallet, days)
        await self._closed(score, since_s)
        await self._traded(score, since_s)
        return score

    async def _closed(self, score: Score, since_s: int) -> None:
        for page in range(MAX_PAGES):
            offset = page * CLOSED_PAGE
            if offset > CLOSED_OFFSET:
                break
            rows = await self._get("/closed-positions", {"user": score.wallet, "limit": CLOSED_PAGE, "offset": offset,
                                                         "sortBy": "TIMESTAMP", "sortDirection": "DESC"})
            for row in rows:
                closed = _closed(row)
                if closed is None:
                    self.refused["a closed position that does not read"] += 1
                    continue
                at, pnl = closed
                if at < since_s:
                    return  # newest first: the rest closed before the window
                score.closed += 1
                score.won += pnl > 0
                score.realized_pnl += pnl
            if len(rows) < CLOSED_PAGE:
                return
        score.complete = False

    async def _traded(self, score: Score, since_s: int) -> None:
        for page in range(MAX_PAGES):
            offset = page * TRADES_PAGE
            if offset > TRADES_OFFSET:
                break
            rows = await self._get("/trades", {"user": score.wallet, "takerOnly": "false", "limit": TRADES_PAGE,
                                               "offset": offset})
            for row in rows:
                if unreadable(row):
                    self.refused["a trade that does not read"] += 1
                    continue
                if at_ms(row) // 1000 < since_s:
                    return
                notional = to_micros(str(row["price"])) * to_micros(str(row["size"])) // ONE
                title = row.get("title")
                title = title if isinstance(title, str) and title else row["conditionId"]
                score.trades += 1
                score.volume += notional
                score.by_market[str(title)[:120]] += notional
            if len(rows) < TRADES_PAGE:
                return
        score.complete = False


def _money(raw: Any) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or abs(raw) > 1e12:
        return None
    return to_micros(str(raw)) if raw >= 0 else -to_micros(str(-raw))


def _leader(row: Any) -> Leader | None:
    if not isinstance(row, dict):
        return None
    wallet, rank, name = row.get("proxyWallet"), row.get("rank"), row.get("userName")
    if not isinstance(wallet, str) or len(wallet) != 42 or not wallet.startswith("0x"):
        return None
    try:
        int(wallet[2:], 16)
        place = int(str(rank))
    except ValueError:
        return None
    pnl, volume = _money(row.get("pnl")), _money(row.get("vol"))
    if pnl is None or volume is None or volume < 0 or place < 1:
        return None
    return Leader(place, wallet.lower(), name[:60] if isinstance(name, str) else "", pnl, volume)


def _closed(row: Any) -> tuple[int, int] | None:
    """(closed at, s; realized PnL, micro-pUSD), or None."""
    if not isinstance(row, dict):
        return None
    at, pnl = row.get("timestamp"), _money(row.get("realizedPnl"))
    if isinstance(at, bool) or not isinstance(at, int) or at <= 0 or pnl is None:
        return None
    return (at // 1000 if at > 10**11 else at), pnl
