"""What the desk knows of a Kalshi account's exchange shards, and what it says before quoting one.

Kalshi trades on several exchange shards (its "Exchange Sharding" page): each event and market lives on
one (`exchange_index`), collateral is checked on the market's shard (an order there is refused
`insufficient_balance` when that shard's balance is short, however much the others hold), and money
moves between shards only by a transfer that is processed asynchronously (accepted is not arrived) or
by a target allocation Kalshi keeps every 10 s. So the desk:

- knows each market's shard (as the pair's poller read it, or from `GET /markets/{ticker}` once), and
  names it on every order, cancel and batch item (never auto-routed, never left to a default);
- reads each shard's free balance (`balance_breakdown`) and the transfers still on their way
  (`refresh`, on the venue's reconcile loop);
- before quoting, adds up what the desk's new buy orders on each shard would hold back (their cost and
  the dearest taker fee Kalshi could hold with them; what already rests is held already, and the shard's
  balance leaves it out) and holds the quotes of a shard that cannot fund them (`judge`), saying how
  much is short, where a transfer could come from and what split a target allocation would keep;
- never moves money by itself: a transfer or an allocation is the operator's confirmed command.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from contracts.venues.kalshi.fees import KalshiFees, trade_fee
from engine.venues.kalshi import models
from engine.venues.kalshi.client import KalshiClient

log = logging.getLogger("engine.venues.kalshi.shards")
NAMES = {0: "default", 1: "combos", 2: "crypto", 3: "tennis and baseball"}  # the Exchange Sharding page's table
CENT = 10_000
DEAREST = KalshiFees()  # the dearest known fees: what a resting order may hold back beside its cost


def named(shard: int) -> str:
    return f"shard {shard} ({NAMES[shard]})" if shard in NAMES else f"shard {shard}"


def cost(buys: Sequence[tuple[int, int]]) -> int:
    """What buying these (price, shares) holds back on a shard: the price and the dearest taker fee."""
    return sum(price * size // 1_000_000 + trade_fee(DEAREST, price, size, taker=True) for price, size in buys)


def up_to_cent(micro: int) -> int:
    return -(-micro // CENT) * CENT


@dataclass(frozen=True)
class Shortfall:
    """A shard whose free balance cannot fund the desk's new orders there, and what would."""

    shard: int
    need: int  # micro-dollars the new orders would hold back
    free: int  # the shard's free balance as last read
    markets: tuple[str, ...]  # the tickers held for it
    source: int | None  # the shard a transfer could come from (None: none can spare it)
    amount: int  # what that transfer moves (the shortfall, up to the cent)
    allocation: dict[int, int] = field(default_factory=dict)  # a target split that would fund it (empty: none)

    @property
    def short(self) -> int:
        return self.need - self.free

    def words(self) -> str:
        held = (f"Kalshi {named(self.shard)} holds ${self.free / 1e6:,.2f}; the desk's quotes there "
                f"({', '.join(self.markets)}) need ${self.need / 1e6:,.2f}: they are held, not sent (Kalshi would "
                f"refuse them insufficient_balance)")
        if self.source is None:
            return f"{held}. No other shard can spare ${self.short / 1e6:,.2f}: pay money in, or quote less there."
        split = ", ".join(f"{s}: {p}%" for s, p in sorted(self.allocation.items()))
        return (f"{held}. To fund them, confirm a transfer of ${self.amount / 1e6:,.2f} from {named(self.source)} "
                f"on the dashboard (Kalshi panel){f', or a target allocation {split}' if split else ''}: the desk "
                "never moves money by itself.")

    def as_json(self) -> dict[str, object]:
        return {"shard": self.shard, "need": self.need, "free": self.free, "markets": list(self.markets),
                "source": self.source, "amount": self.amount,
                "allocation": {str(s): p for s, p in self.allocation.items()}, "words": self.words()}


@dataclass
class Shards:
    client: KalshiClient
    shard_of: Callable[[str], int | None]  # a ticker's shard as the desk's catalog knows it (None: not read)
    known: dict[str, int] = field(default_factory=dict)  # tickers whose shard this process read itself
    free: dict[int, int] = field(default_factory=dict)  # each shard's free balance (micro-dollars), as last read
    total: int = 0  # the account's balance over every shard, as last read
    pending: list[models.Transfer] = field(default_factory=list)  # transfers accepted, not arrived
    read_ms: int | None = None
    shortfalls: list[Shortfall] = field(default_factory=list)  # as last judged
    asked: list[dict[str, object]] = field(default_factory=list)  # the operator's moves, newest first
    _learning: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def of(self, ticker: str) -> int | None:
        found = self.shard_of(ticker)
        return found if found is not None else self.known.get(ticker)

    async def shard(self, ticker: str) -> int:
        """The market's shard, read from Kalshi when the desk does not know it yet."""
        found = self.of(ticker)
        if found is None:
            found = self.known[ticker] = (await self.client.market(ticker)).exchange_index
        return found

    def learn(self, ticker: str) -> None:
        """Read a market's shard in the background (a pass cannot wait for it)."""
        if ticker in self._learning and not self._learning[ticker].done():
            return

        async def read() -> None:
            try:
                await self.shard(ticker)
            except Exception as exc:  # noqa: BLE001  (read again at the next pass that asks)
                log.warning("a Kalshi market's shard could not be read", extra={"ticker": ticker, "error": str(exc)})

        try:
            self._learning[ticker] = asyncio.get_running_loop().create_task(read(), name="kalshi-shard")
        except RuntimeError:  # no loop (a synchronous caller in a test): the next pass asks again
            pass

    async def refresh(self, now_ms: int) -> None:
        """Each shard's free balance and the transfers still on their way, read now."""
        balance = await self.client.balance()
        self.free = dict(balance.breakdown) or {0: balance.balance}
        self.total = balance.balance
        self.pending = [t for t in await self.client.account.transfers() if t.status == "pending"]
        self.read_ms = now_ms

    @property
    def in_flight(self) -> int:
        """Money that has left one shard and not reached another (on neither's balance)."""
        return sum(t.amount for t in self.pending)

    def judge(self, wanted: Mapping[str, Sequence[tuple[int, int]]],
              resting: Mapping[str, Sequence[tuple[int, int]]]) -> tuple[dict[str, str], list[Shortfall]]:
        """(tickers held because their shard is not known yet -> why, the shards that cannot fund their new
        orders). Nothing is judged before the balances were first read."""
        unknown: dict[str, str] = {}
        need: dict[int, int] = {}
        markets: dict[int, list[str]] = {}
        for ticker, buys in wanted.items():
            if not buys:
                continue
            shard = self.of(ticker)
            if shard is None:
                self.learn(ticker)
                unknown[ticker] = (f"Kalshi market {ticker}'s exchange shard is being read: the desk quotes it once "
                                   "it knows where its collateral is checked")
                continue
            extra = max(0, cost(buys) - cost(resting.get(ticker, ())))
            need[shard] = need.get(shard, 0) + extra
            markets.setdefault(shard, []).append(ticker)
        if self.read_ms is None:
            return unknown, []
        short = [s for s, n in sorted(need.items()) if n > self.free.get(s, 0)]
        self.shortfalls = [self._offer(s, need, tuple(sorted(markets[s]))) for s in short]
        return unknown, self.shortfalls

    def _offer(self, shard: int, need: Mapping[int, int], markets: tuple[str, ...]) -> Shortfall:
        """The move that would fund `shard`: a transfer from the shard with the most to spare beyond its own
        needs, and a target split of the free money giving each shard at least what its quotes need."""
        short = need[shard] - self.free.get(shard, 0)
        amount = up_to_cent(short)
        spare = {s: f - need.get(s, 0) for s, f in self.free.items() if s != shard}
        source = max((s for s, left in spare.items() if left >= amount), key=lambda s: spare[s], default=None)
        return Shortfall(shard, need[shard], self.free.get(shard, 0), markets, source, amount,
                         self._allocation(need))

    def _allocation(self, need: Mapping[int, int]) -> dict[int, int]:
        """Whole percents of the free money per shard, each at least its need, the rest on shard 0 (empty
        when the needs take more than all of it)."""
        free = sum(self.free.values())
        if free <= 0:
            return {}
        split = {s: -(-n * 100 // free) for s, n in need.items() if n > 0 and s != 0}
        rest = 100 - sum(split.values())
        if rest < 0 or rest * free // 100 < need.get(0, 0):
            return {}
        return {0: rest, **split} if rest else split

    def report(self) -> dict[str, object]:
        return {"read_ms": self.read_ms, "total": self.total,
                "shards": {str(s): {"name": NAMES.get(s, ""), "free": f} for s, f in sorted(self.free.items())},
                "in_flight": [{"transfer_id": t.transfer_id, "source": t.source, "destination": t.destination,
                               "amount": t.amount, "created_ms": t.created_ms} for t in self.pending],
                "shortfalls": [s.as_json() for s in self.shortfalls], "asked": self.asked[:5]}
