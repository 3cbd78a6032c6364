"""The Kalshi side's state: its keys, its exchange and markets, their lives and pauses, and the
accounts' token buckets.

Rate limits as Kalshi's Rate Limits and Tiers page gives them: every request costs tokens (10 by
default; a V2 cancel and an order lookup 2), taken from one of two buckets per account, read and
write, which refill continuously. A Basic account's read bucket refills 200 tokens a second and
holds two seconds of them; its write bucket refills 100 a second and holds one second. A request
the bucket cannot cover is answered 429 `{"error": "too many requests"}`, with no Retry-After and
no rate-limit headers. Public reads without a key are billed to the caller's address.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from .cfbenchmarks import RECEIVED_LAG_MS, IndexFeed
from .cfbenchmarks import SERIES as CRYPTO_SERIES
from .conformance import SchemaWatch
from .exchange import HOUSE, Exchange, Placement, Refused
from .fees import FEE_TYPES, EventFeeChange, EventFees, FeeChange, FeeSchedule, SeriesFees
from .grid import Grid
from .keys import KeyRing
from .lifecycle import Lifecycle
from .market import Market
from .shards import COMBOS, CRYPTO, SHARDS, Transfers
from .twin import Twin
from .units import MICRO
from .ws import KalshiHub

# Kalshi's tiers, in tokens: (refill a second, capacity) of the read and the write bucket (Rate Limits and
# Tiers: the budgets' table; Basic and Advanced read buckets hold two seconds of budget, those above Advanced
# one; write buckets above Basic two seconds, Basic's one). `/account/limits` answers the side's tier.
TIERS = {"basic": ((200, 400), (100, 100)), "advanced": ((300, 600), (300, 600)),
         "expert": ((600, 600), (600, 1200)), "premier": ((1000, 1000), (1000, 2000)),
         "paragon": ((2000, 2000), (2000, 4000)), "prime": ((4000, 4000), (4000, 8000)),
         "prestige": ((10000, 10000), (8000, 16000))}
READ_BUCKET, WRITE_BUCKET = TIERS["basic"]
DEFAULT_COST = 10
CANCEL_ALL = ("DELETE", "/portfolio/events/orders")
COSTS = {("DELETE", "/portfolio/events/orders/{order_id}"): 2, ("GET", "/portfolio/orders/{order_id}"): 2,
         # Cancel All Orders: "the same number of write tokens as a batch cancel containing the maximum number
         # of orders allowed for the caller's API tier" (Cancel Up to 10,000 Orders): a batch of cancels at 2
         # tokens each as large as the tier's write bucket holds, so the whole bucket (`KalshiSide.cost`)
         CANCEL_ALL: WRITE_BUCKET[1] // 2 * 2}
# The batched V2 orders are billed per item (Batch Create Orders (V2): 10 tokens an order; Batch Cancel
# Orders (V2): 2 a cancel): a batch costs its items' sum, so one bigger than the bucket can hold is never
# taken (a 429, as any request the bucket cannot cover): "the maximum batch size scales with your tier's
# write budget". `/account/endpoint_costs` lists the cancels' (the creates' is the default).
PER_ITEM = {("POST", "/portfolio/events/orders/batched"): DEFAULT_COST,
            ("DELETE", "/portfolio/events/orders/batched"): 2}
# "Newly placed orders may also be cancelled during the minute after the request" (Cancel All Orders).
SWEEP_AFTER_MS = 60_000
# How far behind now Kalshi's historical cutoff lies (Historical Data: "the target window for live data is
# 3 months"); an admin call moves it (`/_sim/kalshi/historical/cutoff`).
HISTORY_LAG_MS = 90 * 86_400_000
# How far a request's timestamp may be from the exchange's clock: Kalshi documents 30 s (FIX), the
# stricter figure, whatever Polymarket's side allows.
MAX_SKEW_S = 30.0
# (series, fee type, price structure) of the simulated events, one market list each.
SERIES = (("KXSIM", "quadratic", "linear_cent"), ("KXSIMM", "quadratic_with_maker_fees", "tapered_deci_cent"),
          ("KXSIMD", "quadratic", "deci_cent"))
PARLAY_COLLECTION = "KXMVECROSSCATEGORY-R"
RESTRICTED = ("Sports", "Elections", "Entertainment")  # what a lapsed location attestation bars (keys.py)


class Bucket:
    """A token bucket: refills `rate` a second up to `capacity`; a request takes its cost or is refused."""

    def __init__(self, rate: int, capacity: int, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens = float(capacity)
        self.at = now

    def covers(self, cost: int, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        return self.tokens >= cost

    def take(self, cost: int, now: float) -> bool:
        if self.covers(cost, now):
            self.tokens -= cost
            return True
        return False


class KalshiSide:
    def __init__(self, seed: int, markets: int, starting_balance: int, max_skew_s: float, rate_limits: bool,
                 end_after_s: float, parlays: int = 0, weekly_pause: bool = True, crypto: tuple[str, ...] = (),
                 spot_vol: float = 0.6, twins: tuple[Twin, ...] = ()) -> None:
        """`crypto`: the crypto window series listed (KXBTC15M, ...: cfbenchmarks.py), one market a quarter
        hour each, settled on their CF Benchmarks index; `twins`: markets asking Polymarket markets'
        questions in Kalshi's words (twin.py)."""
        self.keys = KeyRing(seed, min(max_skew_s, MAX_SKEW_S))
        self.exchange = Exchange(seed, starting_balance)
        self.lifecycle = Lifecycle(self.exchange, weekly=weekly_pause)
        self.hub = KalshiHub(self.exchange, self.keys)
        self.rate_limits = rate_limits
        self.clock: Callable[[], float] = time.monotonic  # the buckets' clock (a test may stop it)
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.transfers = Transfers()  # between an account's exchange shards (shards.py)
        self.swept: dict[str, tuple[int, int]] = {}  # account -> (from, until) ms: a cancel-all's minute
        self.history_lag_ms = HISTORY_LAG_MS
        self.tier = "basic"  # the accounts' API tier (TIERS; an admin call changes it)
        self.events: dict[str, tuple[str, str]] = {}  # event ticker -> (series ticker, title)
        self.series: dict[str, SeriesFees] = {}
        self.event_fees: dict[str, EventFees] = {}  # event ticker -> its override over its series' fees
        self.categories: dict[str, list[str]] = {}  # series ticker -> its discovery categories (Series.categories)
        self.raw_fee_changes: list[object] = []  # records served as given (a test's hostile ones)
        self.retired_calls = 0  # requests to a retired endpoint (each answered 410)
        self.observers: list[Callable[[str, str, int, object], None]] = []  # (method, route, status, body)
        # In a test session, every answer and message checked against Kalshi's published schemas
        # (conformance.py; the app's middleware and the hub report to it).
        self.schema_watch = SchemaWatch.from_env()
        self.hub.watch = self.schema_watch
        self._list(markets, random.Random(f"kalshi-markets:{seed}"), end_after_s)
        for n, twin in enumerate(twins):  # the first keeps the one twin's draws of before
            self._list_twin(twin, random.Random(f"kalshi-twin:{seed}" + (f":{n}" if n else "")), end_after_s)
        self._list_parlays(parlays, end_after_s)
        self.index = IndexFeed(seed, spot_vol, int(time.time() * 1000))  # the cfbenchmarks_value channel's
        self.crypto = tuple(crypto)
        self.windows: dict[str, str] = {}  # crypto window ticker -> its index id
        self._list_windows(int(time.time() * 1000))

    def schedule_fee_change(self, series: str, body: dict[str, Any], now_ms: int) -> str:
        """A change of the series' fees scheduled as Kalshi's FeeType and a multiplier of 0 or more
        allow (anything else refused, named); returns its id."""
        fee_type, multiplier = body.get("fee_type"), body.get("fee_multiplier")
        if fee_type not in FEE_TYPES:
            raise Refused(400, "invalid_parameters", f"fee_type {fee_type!r} is not one of {', '.join(FEE_TYPES)}")
        if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or multiplier < 0:
            raise Refused(400, "invalid_parameters", f"fee_multiplier {multiplier!r} is not a number of 0 or more")
        at = int(body["at_ms"]) if "at_ms" in body else now_ms + int(float(body.get("in_s", 0)) * 1000)
        change = FeeChange(str(uuid.uuid4()), series, at, FeeSchedule(fee_type, Fraction(str(multiplier))))
        self.series[series].changes.append(change)
        return change.change_id

    def schedule_event_fee_change(self, event: str, body: dict[str, Any], now_ms: int) -> str:
        """A change of the event's fee override (Kalshi's Get Event Fee Changes): `fee_type_override` and
        `fee_multiplier_override` both set (an override of the series' fees), or both null (the override
        cleared: the series' fees again); anything else refused, named. Returns its id."""
        fee_type, multiplier = body.get("fee_type_override"), body.get("fee_multiplier_override")
        override = None
        if fee_type is not None or multiplier is not None:
            if fee_type not in FEE_TYPES:
                raise Refused(400, "invalid_parameters", f"fee_type_override {fee_type!r} is not one of "
                              f"{', '.join(FEE_TYPES)} (or null, with a null multiplier, to clear the override)")
            if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or multiplier < 0:
                raise Refused(400, "invalid_parameters", f"fee_multiplier_override {multiplier!r} is not a number of "
                              "0 or more")
            override = FeeSchedule(fee_type, Fraction(str(multiplier)))
        at = int(body["at_ms"]) if "at_ms" in body else now_ms + int(float(body.get("in_s", 0)) * 1000)
        fees = self.event_fees[event]
        change = EventFeeChange(str(uuid.uuid4()), event, self.events[event][0], at, override)
        fees.changes.append(change)
        return change.change_id

    def event_fees_of(self, event: str, series: str) -> EventFees:
        """The event's fees (a new event pays its series' until an override is scheduled)."""
        if event not in self.event_fees:
            self.event_fees[event] = EventFees(self.series.setdefault(series, SeriesFees()))
        return self.event_fees[event]

    def _list(self, count: int, rng: random.Random, end_after_s: float) -> None:
        now_ms = int(time.time() * 1000)
        close_ms = now_ms + int(end_after_s * 1000)
        day = datetime.fromtimestamp(close_ms / 1000, UTC).strftime("%y%b%d").upper()
        for series, fee_type, _ in SERIES:
            self.series[series] = SeriesFees(FeeSchedule(fee_type, Fraction(1)))
        for n in range(1, count + 1):
            series, fee_type, structure = SERIES[(n - 1) % len(SERIES)]
            event = f"{series}-{day}"
            self.events[event] = (series, "Which simulated outcome happens?")
            ticker = f"{event}-T{n}"
            self.exchange.add_market(Market(
                ticker, event, series, str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                f"Will simulated outcome {n} happen?", f"Outcome {n}",
                f"If simulated outcome {n} happens by the close, the market resolves to Yes.",
                "Determined and settled by the simulator's admin API (/_sim/kalshi/markets/{ticker}/...).",
                now_ms, close_ms, Grid.named(structure), self.event_fees_of(event, series), updated_ms=now_ms))
            self.seed_ladder(ticker, rng.randrange(20, 81) * 10_000, now_ms)

    def _list_twin(self, twin: Twin, rng: random.Random, end_after_s: float) -> None:
        """A market asking a Polymarket market's question (twin.py), in a series of its own, closing when
        that market ends or `twin.later_s` after."""
        now_ms = int(time.time() * 1000)
        close_ms = now_ms + int((end_after_s + twin.later_s) * 1000)
        event = f"{twin.series}-{datetime.fromtimestamp(close_ms / 1000, UTC).strftime('%y%b%d').upper()}"
        self.series[twin.series] = SeriesFees(FeeSchedule("quadratic", Fraction(1)))
        self.events[event] = (twin.series, twin.event_title)
        ticker = f"{event}-{twin.suffix}"
        self.exchange.add_market(Market(
            ticker, event, twin.series, str(uuid.UUID(int=rng.getrandbits(128), version=4)), twin.title,
            twin.sub_title, twin.rules, twin.source, now_ms, close_ms, Grid.named("linear_cent"),
            self.series[twin.series], updated_ms=now_ms))
        self.seed_ladder(ticker, twin.mid, now_ms)

    def _list_parlays(self, count: int, end_after_s: float) -> None:
        """Multivariate (parlay) legs, listed before the binary markets as Kalshi's /markets pages
        are filled with them: discovery must pass mve_filter=exclude to see past them."""
        now_ms = int(time.time() * 1000)
        for n in range(count):
            ticker = f"KXMVECROSSCATEGORY-S{n:05d}"
            event = f"KXMVECROSSCATEGORY-E{n:05d}"
            self.events[event] = ("KXMVECROSSCATEGORY", "A parlay")
            self.exchange.add_market(Market(
                ticker, event, "KXMVECROSSCATEGORY", str(uuid.UUID(int=n + 1, version=4)),
                f"yes Simulated outcome {n % 4 + 1},yes Other team wins", "parlay leg", "A combination.", "",
                now_ms, now_ms + int(end_after_s * 1000), Grid.named("center_deci_edge_centi_cent"),
                self.event_fees_of(event, "KXMVECROSSCATEGORY"), updated_ms=now_ms, mve_collection=PARLAY_COLLECTION,
                exchange_index=COMBOS))
        # parlays first, then the rest, as Kalshi's pages come
        self.exchange.markets = dict(sorted(self.exchange.markets.items(),
                                            key=lambda kv: kv[1].mve_collection is None))

    def seed_ladder(self, ticker: str, mid: int, now_ms: int, depth: int = 5) -> None:
        """House orders around `mid` on the market's grid: YES bids below, YES asks above, sizes with
        fractions of a contract."""
        grid = self.exchange.markets[ticker].grid
        for side, price in (("bid", 5_000), ("ask", MICRO - 5_000)):  # sub-penny edges, where the grid has them
            if grid.valid(price):
                self.exchange.place(HOUSE, Placement(ticker, side, price, 10 * MICRO, "good_till_canceled",
                                                     "taker_at_cross", post_only=True), now_ms)
        for step in range(1, depth + 1):
            size = 100 * step * MICRO + 25 * 10_000  # 100.25, 200.25, ... contracts
            for side, price in (("bid", mid - step * 10_000), ("ask", mid + step * 10_000)):
                if grid.valid(price):
                    self.exchange.place(HOUSE, Placement(ticker, side, price, size, "good_till_canceled",
                                                         "taker_at_cross", post_only=True), now_ms)

    def limited(self, who: str, write: bool, cost: int, scopes: tuple[str, ...] = ("",)) -> bool:
        """True when the request must be refused (a bucket it is billed to cannot cover `cost`). A write
        is billed to each of `scopes` (shards.write_scopes: "" the unscoped bucket, "shardN" a shard's,
        each holding the tier's full budget)."""
        if not self.rate_limits:
            return False
        kinds = [f"write{scope}" for scope in scopes] if write else ["read"]
        rate, capacity = self.buckets_of()[1 if write else 0]
        buckets = [self.buckets.setdefault((who, kind), Bucket(rate, capacity, self.clock())) for kind in kinds]
        if not all(b.covers(cost, self.clock()) for b in buckets):
            return True
        return not all([b.take(cost, self.clock()) for b in buckets])

    def buckets_of(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(read, write) buckets of the accounts' tier: (tokens a second, capacity)."""
        return TIERS[self.tier]

    def costs(self) -> dict[tuple[str, str], int]:
        """Each endpoint's cost that is not the default, at the accounts' tier."""
        return {**COSTS, CANCEL_ALL: self.buckets_of()[1][1] // 2 * 2}

    def observe(self, method: str, route: str, status: int, body: object) -> None:
        for observer in self.observers:
            observer(method, route, status, body)

    def tick(self) -> None:
        now = int(time.time() * 1000)
        self.hub.index_ticks(self.index.advance(now), self.index)
        self._list_windows(now)
        self._settle_windows(now)
        self.lifecycle.tick(now)
        funds = {name: account.funds for name, account in self.exchange.accounts.items()}
        self.transfers.arrive(funds, now)
        self.transfers.rebalance(funds, now)
        self._sweep(now)

    # -- an account's orders and shards -------------------------------------------------------

    def cancel_all(self, account: str, now_ms: int, limit: int = 10_000) -> int:
        """Cancel All Orders (`DELETE /portfolio/events/orders`): up to `limit` of the account's resting
        orders on every shard (beyond that an arbitrary subset: here, the newest are left), and for the
        minute after, its orders placed then too (`_sweep`). Returns how many it cancelled."""
        ex = self.exchange
        resting = sorted((o for o in ex.orders.values() if o.account == account and o.status == "resting"),
                         key=lambda o: o.seq)[:limit]
        for order in resting:
            ex.cancel(account, order.order_id, now_ms)
        self.swept[account] = (now_ms, now_ms + SWEEP_AFTER_MS)
        return len(resting)

    def _sweep(self, now_ms: int) -> None:
        """Within a cancel-all's minute, the orders the account placed after it are cancelled too."""
        ex = self.exchange
        for account, (start, until) in list(self.swept.items()):
            if now_ms >= until:
                del self.swept[account]
                continue
            for order in [o for o in ex.orders.values() if o.account == account and o.status == "resting"
                          and o.created_ms >= start and ex.markets[o.ticker].status in ("active", "inactive")]:
                ex.cancel(account, order.order_id, now_ms)

    def location_refusal(self, account: str, ticker: str, now_ms: int) -> None:
        """Refuse an order operation on a Sports, Elections or Entertainment market (its series' categories)
        for an account whose location attestation has lapsed or was never made (keys.py)."""
        parent = account.partition("#sub")[0]
        until = self.keys.attested_until.get(parent)
        if until is not None and until > now_ms // 1000:
            return
        market = self.exchange.market(ticker)
        barred = [c for c in self.categories.get(market.series_ticker, []) if c in RESTRICTED]
        if barred:
            raise Refused(403, "forbidden", "the account's location attestation has lapsed",
                          f"API keys are not valid for trading {', '.join(barred)} markets until the account attests "
                          "its location again (GET /api_keys says when it expires)")

    def list_on(self, event: str, shard: int) -> None:
        """A simulated event listed on another shard (its markets with it): only before anyone has an
        order or a position in it (Kalshi does not migrate a live market)."""
        if shard not in SHARDS:
            raise Refused(400, "invalid_parameters", f"exchange_index must be one of {sorted(SHARDS)}")
        ex = self.exchange
        markets = [m for m in ex.markets.values() if m.event_ticker == event]
        if not markets:
            raise Refused(404, "not_found", f"event {event} not found")
        tickers = {m.ticker for m in markets}
        if any(o.ticker in tickers and o.account != HOUSE for o in ex.orders.values()) or any(
                p.count or p.total_traded for a in ex.accounts.values() for t, p in a.positions.items()
                if t in tickers):
            raise Refused(409, "invalid_parameters", f"event {event} is traded already: Kalshi lists an event on one "
                          "shard for its life")
        house = [o for o in ex.orders.values() if o.ticker in tickers and o.account == HOUSE and o.status == "resting"]
        for market in markets:
            market.exchange_index = shard
        for order in house:
            order.shard = shard

    # -- the crypto windows (cfbenchmarks.py) ---------------------------------------------------

    def _list_windows(self, now_ms: int) -> None:
        """Each crypto series' current and next quarter-hour window listed (once), its price to beat set
        when it opens (the index's 60-second average then)."""
        for series in self.crypto:
            index_id = CRYPTO_SERIES[series]
            if series not in self.series:
                self.series[series] = SeriesFees(FeeSchedule("quadratic", Fraction(1)))
                self.categories[series] = ["Crypto"]
            start = now_ms // 900_000 * 900_000
            for begin in (start, start + 900_000):
                close = begin + 900_000
                event = f"{series}-{datetime.fromtimestamp(close / 1000, UTC).strftime('%y%b%d%H%M').upper()}"
                ticker = f"{event}-15"
                if ticker in self.exchange.markets:
                    continue
                self.events[event] = (series, f"{index_id} up or down in 15 minutes?")
                self.exchange.add_market(Market(
                    ticker, event, series, str(uuid.uuid4()), f"{index_id} up in the 15 minutes to "
                    f"{datetime.fromtimestamp(close / 1000, UTC).strftime('%H:%M')} UTC?", "Up",
                    f"If the average of the 60 CF Benchmarks {index_id} values before the close is at or above the "
                    "price to beat (the average of the 60 seconds before the window opened), the market resolves "
                    "to Yes.", "CF Benchmarks values as Kalshi's cfbenchmarks_value channel relays them.",
                    begin, close, Grid.named("linear_cent"), self.event_fees_of(event, series),
                    status="initialized" if now_ms < begin else "active", updated_ms=now_ms,
                    strike_type="greater_or_equal", exchange_index=CRYPTO))
                self.windows[ticker] = index_id

    def _settle_windows(self, now_ms: int) -> None:
        """A window's price to beat once it has opened; its result once it has closed (Yes when the 60
        ticks before the close average at least the price to beat), paid after its settlement timer."""
        for ticker, index_id in list(self.windows.items()):
            market = self.exchange.markets[ticker]
            if market.floor_strike is None and now_ms >= market.open_ms:  # it opens: its price to beat, a book
                value, count = self.index.average(index_id, market.open_ms - 60_000, market.open_ms,
                                                  include_high=False)
                market.floor_strike = round(value, 2) if count else None
                if market.status == "initialized":
                    market.status = "active"
                if market.status == "active":
                    self.seed_ladder(ticker, 500_000, now_ms)
            if now_ms >= market.close_ms + RECEIVED_LAG_MS and market.status in ("active", "inactive", "closed") and \
                    market.floor_strike is not None:
                settled = self.index.settlement(index_id, market.close_ms)
                if settled is not None:
                    if market.status != "closed":
                        self.lifecycle.close(ticker, now_ms)
                    self.lifecycle.determine(ticker, "yes" if settled >= market.floor_strike else "no", None, 60,
                                             now_ms)
                    del self.windows[ticker]

