"""The pre-trade risk gate: every intent's quotes are approved, trimmed or refused, each
refusal or trim with a reason code, before the executor plans orders from them; and every
actual placement passes a last check (trading state, order rate, data age).

The gate never raises for a market condition: it says no, with a reason.
Risk-reducing quantity (selling what a strategy holds, in YES space) is always allowed
when the data is fresh; only new risk is measured against the exposure limits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from operator import itemgetter

from contracts import order_end
from contracts.domain import MICRO, ONE, Intent, MarketInfo, MarketView, PositionView, Quote, Side
from contracts.limits import Limits
from engine.execution.exposure import Exposure, event_key
from engine.execution.planner import TAKE, OrderSpec, round_size

ORDER_RATE_WINDOW_MS = 60_000  # `max_order_rate` counts the placements within this window


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # only risk-reducing orders
    HALTED = "HALTED"  # no new orders at all


class Reason(StrEnum):
    TRADING_HALTED = "TRADING_HALTED"
    TRADING_REDUCING = "TRADING_REDUCING"
    STALE_DATA = "STALE_DATA"
    NO_MID = "NO_MID"
    MAX_SLIPPAGE = "MAX_SLIPPAGE"
    MAX_ORDER_SIZE = "MAX_ORDER_SIZE"
    MAX_TOTAL_EXPOSURE = "MAX_TOTAL_EXPOSURE"
    MAX_MARKET_EXPOSURE = "MAX_MARKET_EXPOSURE"
    MAX_STRATEGY_EXPOSURE = "MAX_STRATEGY_EXPOSURE"
    MAX_EVENT_EXPOSURE = "MAX_EVENT_EXPOSURE"
    MAX_CORRELATED_EXPOSURE = "MAX_CORRELATED_EXPOSURE"  # markets measured to move together (risk/correlation.py)
    MIN_ORDER_VALUE = "MIN_ORDER_VALUE"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    MAX_ORDER_RATE = "MAX_ORDER_RATE"
    # From the planner: what could not become a legal order.
    BELOW_MIN_SIZE = "BELOW_MIN_SIZE"
    PRICE_OUT_OF_BOUNDS = "PRICE_OUT_OF_BOUNDS"
    NOT_ENOUGH_INVENTORY = "NOT_ENOUGH_INVENTORY"
    INVALID_EXPIRY = "INVALID_EXPIRY"  # a GTD expiry outside contracts/expiry.py's bounds
    # From the venue: placements held back while it cannot take them, and its refusals.
    VENUE_MAINTENANCE = "VENUE_MAINTENANCE"
    VENUE_POST_ONLY = "VENUE_POST_ONLY"
    VENUE_RATE_LIMITED = "VENUE_RATE_LIMITED"
    VENUE_REFUSED = "VENUE_REFUSED"
    VENUE_REGION = "VENUE_REGION"  # the venue refused the order for this server's region (a geoblock)
    # The part of the venue's account that would fund it is short (Kalshi's shard): held, not sent.
    VENUE_UNFUNDED = "VENUE_UNFUNDED"
    # The venue refuses this account's orders in that market (Kalshi: a lapsed location attestation bars
    # Sports, Elections and Entertainment markets): held, not sent.
    VENUE_RESTRICTED = "VENUE_RESTRICTED"
    TAKE_HELD = "TAKE_HELD"  # after a refused take, the strategy's takes there wait for the book to change
    # Per strategy: its own breakers, its exits and its order group.
    STRATEGY_HALTED = "STRATEGY_HALTED"
    STRATEGY_REDUCING = "STRATEGY_REDUCING"
    EXIT_COOLDOWN = "EXIT_COOLDOWN"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    OPERATOR_EXIT = "OPERATOR_EXIT"  # the operator asked to sell a position (trading/operator/operator_exits.py)
    ORDER_AGE = "ORDER_AGE"
    GROUP_INCOMPLETE = "GROUP_INCOMPLETE"
    # A neg-risk set that is not an event's whole outcome set (contracts/neg_risk_sets.py).
    NEG_RISK_INCOMPLETE = "NEG_RISK_INCOMPLETE"
    # Quotes withdrawn before a game's start where the venue clears the book (trading/exits/game_start.py).
    GAME_STARTING = "GAME_STARTING"
    # The volatility-spike breaker, per market (engine/risk/volatility.py).
    VOLATILITY_REDUCING = "VOLATILITY_REDUCING"
    VOLATILITY_HALTED = "VOLATILITY_HALTED"
    # A quote that would trade against the desk's own resting order (engine/risk/self_trade.py).
    SELF_TRADE = "SELF_TRADE"
    # Another strategy wants the other side of this market and is surer of it (engine/risk/conflicts.py).
    CONFLICT = "CONFLICT"
    # UMA's resolution of the market is proposed, disputed or reported: no new position (exits only).
    RESOLUTION_PENDING = "RESOLUTION_PENDING"
    # Live: the user channel, which reports our fills, is down past its threshold (trading/lookouts/fills_dark.py).
    FILLS_DARK = "FILLS_DARK"
    # Another strategy's order withdrawn (and kept out) so an exit or flatten can sell through it.
    EXIT_FIRST = "EXIT_FIRST"
    # Notes, not refusals: the market regime a strategy quotes in changed (engine/strategies/regimes.py).
    REGIME_CALM = "REGIME_CALM"
    REGIME_FAST = "REGIME_FAST"
    REGIME_STALE = "REGIME_STALE"
    REGIME_TOXIC = "REGIME_TOXIC"  # market making's own fills picked off: wider and smaller
    REGIME_PULLED = "REGIME_PULLED"  # a sweep or jump pulled the quotes for a cool-down
    REGIME_REDUCE_ONLY = "REGIME_REDUCE_ONLY"  # near the end date: only what reduces the position
    REGIME_CLOSING = "REGIME_CLOSING"  # the last seconds before the end date: nothing quoted


@dataclass(frozen=True, slots=True)
class Decision:
    strategy: str
    condition_id: str
    side: Side
    price: int
    requested: int
    approved: int
    reason: Reason
    detail: str = ""

    @property
    def action(self) -> str:
        return "deny" if self.approved == 0 else "resize"


@dataclass(frozen=True)
class RiskContext:
    now_ms: int
    trading_state: TradingState
    limits: Limits
    exposure: Exposure
    open_orders: int
    own_open_orders: Mapping[tuple[str, str], int]
    positions: Mapping[tuple[str, str], PositionView]
    markets: Mapping[str, MarketView]
    strategy_states: Mapping[str, TradingState] = field(default_factory=dict)  # only the non-ACTIVE ones
    strategy_caps: Mapping[str, int] = field(default_factory=dict)  # allocations (micro-pUSD), where set
    cooldowns: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (strategy, market) -> until ms
    market_states: Mapping[str, TradingState] = field(default_factory=dict)  # volatility, only non-ACTIVE markets
    fills_dark: bool = False  # live: our fills' channel down past its threshold (trading/lookouts/fills_dark.py)
    # Markets measured to move together -> their group's key (risk/correlation.py); a market absent is its own.
    groups: Mapping[str, str] = field(default_factory=dict)

    def reducing_reason(self, strategy: str, condition_id: str) -> Reason | None:
        """Why only risk-reducing orders are allowed for this strategy in this market, if so."""
        if self.trading_state is TradingState.REDUCING:
            return Reason.TRADING_REDUCING
        if self.strategy_states.get(strategy) is TradingState.REDUCING:
            return Reason.STRATEGY_REDUCING
        if self.cooldowns.get((strategy, condition_id), 0) > self.now_ms:
            return Reason.EXIT_COOLDOWN
        if self.market_states.get(condition_id) is TradingState.REDUCING:
            return Reason.VOLATILITY_REDUCING
        view = self.markets.get(condition_id)
        if view is not None and view.info.resolution_pending:
            return Reason.RESOLUTION_PENDING
        return None


def _reducing_detail(reason: Reason, view: MarketView) -> str:
    if reason is Reason.RESOLUTION_PENDING:
        return (f"the venue reports this market's resolution {view.info.resolution_said}: "
                "no new position, only exits")
    return "only risk-reducing orders"


def reducible_quantity(position: PositionView) -> dict[Side, int]:
    """YES-space quantity per side that closes what is held rather than opening new risk.

    Only settled shares count, less what pending sells already promised (as
    `PositionTotals.sellable`): the planner sells only settled inventory, so a SELL YES
    against pending (unsettled) YES would be routed as a BUY of NO, which is new risk.
    Capped at the net position, so selling one leg of a YES+NO pair is not "reducing".
    """
    yes = max(0, position.yes + min(0, position.yes_pending))
    no = max(0, position.no + min(0, position.no_pending))
    net = position.net_yes
    return {Side.BUY: max(0, min(no, -net)), Side.SELL: max(0, min(yes, net))}


def crosses(quote: Quote, view: MarketView) -> bool:
    """Whether a YES-space quote would execute on arrival against the YES book: a BUY at or
    above the best ask, a SELL at or below the best bid."""
    book = view.yes
    if book is None:
        return False
    touch = book.best_ask if quote.side is Side.BUY else book.best_bid
    if touch is None:
        return False
    return quote.price >= touch.price if quote.side is Side.BUY else quote.price <= touch.price


def unit_cost(quote: Quote) -> int:
    """Collateral one share of new risk costs: YES at p, or (selling YES) NO at 1 - p."""
    return quote.price if quote.side is Side.BUY else ONE - quote.price


@dataclass
class Budget:
    """What this tick may still use of every exposure limit and of the open-order limit.

    Built once per tick from the exposure and open orders the tick starts with; every
    approval consumes it, so the next intent sees what the previous ones took (quotes checked
    against the start-of-tick count once let 99 markets place 198 orders under a limit of 10).
    An intent replaces its own strategy's orders in its market: their part is returned first.
    """

    total: int
    by_market: dict[str, int]
    by_strategy: dict[str, int]
    by_event: dict[str, int]
    open_orders: int
    own_orders: dict[tuple[str, str], int]  # open-BUY notional per (strategy, market), not yet returned
    own_open: dict[tuple[str, str], int]  # open orders per (strategy, market), not yet returned
    groups: Mapping[str, str] = field(default_factory=dict)  # market -> its correlated group (risk/correlation.py)
    by_group: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, exposure: Exposure, open_orders: int, own_open: Mapping[tuple[str, str], int],
           groups: Mapping[str, str] | None = None) -> Budget:
        groups = groups or {}
        by_group: dict[str, int] = {}
        for cid, amount in exposure.by_market.items():
            key = groups.get(cid, cid)
            by_group[key] = by_group.get(key, 0) + amount
        return cls(exposure.total, dict(exposure.by_market), dict(exposure.by_strategy), dict(exposure.by_event),
                   open_orders, dict(exposure.own_orders), dict(own_open), groups, by_group)

    def copy(self) -> Budget:
        return Budget(self.total, dict(self.by_market), dict(self.by_strategy), dict(self.by_event), self.open_orders,
                      dict(self.own_orders), dict(self.own_open), self.groups, dict(self.by_group))

    def release(self, strategy: str, market: MarketInfo) -> None:
        """The intent replaces this strategy's orders in this market: their exposure and
        slots are its to reuse (once; a second intent for the same key finds none)."""
        key = (strategy, market.condition_id)
        own, slots = self.own_orders.pop(key, 0), self.own_open.pop(key, 0)
        self._add(strategy, market, -own)
        self.open_orders -= slots

    def room(self, limits: Limits, strategy: str, market: MarketInfo, cap: int | None = None) -> dict[Reason, int]:
        """Room under each limit; `cap` is the strategy's allocation, when it has one."""
        per_strategy = limits.usdc("max_strategy_exposure")
        per_strategy = min(cap, per_strategy) if cap else per_strategy
        return {
            Reason.MAX_TOTAL_EXPOSURE: limits.usdc("max_total_exposure") - self.total,
            Reason.MAX_MARKET_EXPOSURE: limits.usdc("max_market_exposure") - self.by_market.get(market.condition_id, 0),
            Reason.MAX_STRATEGY_EXPOSURE: per_strategy - self.by_strategy.get(strategy, 0),
            Reason.MAX_EVENT_EXPOSURE: limits.usdc("max_event_exposure") - self.by_event.get(event_key(market), 0),
            Reason.MAX_CORRELATED_EXPOSURE: limits.usdc("max_correlated_exposure")
            - self.by_group.get(self.groups.get(market.condition_id, market.condition_id), 0),
        }

    def spend(self, strategy: str, market: MarketInfo, cost: int) -> None:
        self._add(strategy, market, cost)

    def _add(self, strategy: str, market: MarketInfo, amount: int) -> None:
        if not amount:
            return
        self.total += amount
        self.by_market[market.condition_id] = self.by_market.get(market.condition_id, 0) + amount
        self.by_strategy[strategy] = self.by_strategy.get(strategy, 0) + amount
        event = event_key(market)
        self.by_event[event] = self.by_event.get(event, 0) + amount
        group = self.groups.get(market.condition_id, market.condition_id)
        self.by_group[group] = self.by_group.get(group, 0) + amount


class _Headroom:
    """How much new risk (micro-pUSD) each exposure limit still allows, spent as quotes are sized."""

    def __init__(self, budget: Budget, ctx: RiskContext, strategy: str, market: MarketInfo):
        self.budget, self.strategy, self.market = budget, strategy, market
        self.room = budget.room(ctx.limits, strategy, market, ctx.strategy_caps.get(strategy))

    def binding(self) -> tuple[Reason, int]:
        reason, room = min(self.room.items(), key=itemgetter(1))  # the first of equals, as before
        return reason, max(0, room)

    def spend(self, cost: int) -> None:
        for reason in self.room:
            self.room[reason] -= cost
        self.budget.spend(self.strategy, self.market, cost)


class RiskGate:
    def __init__(self) -> None:
        self.placements: deque[int] = deque()

    # -- intents -----------------------------------------------------------------------

    def check_intent(self, intent: Intent, ctx: RiskContext,
                     budget: Budget | None = None) -> tuple[Intent, list[Decision]]:
        """Approve, trim or refuse one intent's quotes. `budget` is the tick's running budget
        (RiskMonitor passes one per tick); without it the intent is checked alone."""
        view = ctx.markets.get(intent.condition_id)
        if view is None or not intent.quotes:
            return intent, []
        if budget is None:
            budget = Budget.of(ctx.exposure, ctx.open_orders, ctx.own_open_orders, ctx.groups)
        budget.release(intent.strategy, view.info)
        blanket = self._blanket_refusal(view, ctx, intent.strategy)
        if blanket is not None:
            return replace(intent, quotes=(), reason=order_end.because(order_end.PROTECTION, blanket.value)), [
                self._decide(intent, q, 0, blanket, "") for q in intent.quotes]
        sized, decisions = self._size_quotes(intent, view, ctx, budget)
        if not sized.quotes:  # every quote refused: its orders end for the limits' reasons
            why = ", ".join(sorted({d.reason.value for d in decisions})) or "risk limits"
            sized = replace(sized, reason=order_end.because(order_end.PROTECTION, why))
        return sized, decisions

    def _blanket_refusal(self, view: MarketView, ctx: RiskContext, strategy: str) -> Reason | None:
        if ctx.fills_dark:
            return Reason.FILLS_DARK
        if ctx.trading_state is TradingState.HALTED:
            return Reason.TRADING_HALTED
        if ctx.strategy_states.get(strategy) is TradingState.HALTED:
            return Reason.STRATEGY_HALTED
        if ctx.market_states.get(view.info.condition_id) is TradingState.HALTED:
            return Reason.VOLATILITY_HALTED
        age = view.data_age_ms(ctx.now_ms)
        if age is None or age > ctx.limits.ms("max_data_age"):
            return Reason.STALE_DATA
        return None

    def _size_quotes(self, intent: Intent, view: MarketView, ctx: RiskContext,
                     budget: Budget) -> tuple[Intent, list[Decision]]:
        position = ctx.positions.get((intent.strategy, intent.condition_id)) or PositionView(intent.condition_id)
        reducible = reducible_quantity(position)
        headroom = _Headroom(budget, ctx, intent.strategy, view.info)
        slots = ctx.limits.count("max_open_orders") - budget.open_orders
        approved: list[Quote] = []
        decisions: list[Decision] = []
        # BUYs first (as "BUY" < "SELL"), best price first on each side.
        ordered = sorted(intent.quotes,
                         key=lambda q: (q.side is Side.SELL, -q.price if q.side is Side.BUY else q.price))
        for quote in ordered:
            if slots <= 0:  # before sizing: a refused quote must not spend exposure the next one could use
                decisions.append(self._decide(intent, quote, 0, Reason.MAX_OPEN_ORDERS,
                                              f"limit {ctx.limits.count('max_open_orders')}"))
                continue
            size, decision = self._size_one(intent, quote, view, ctx, reducible, headroom)
            if decision is not None:
                decisions.append(decision)
            if size > 0:
                approved.append(quote if size == quote.size else replace(quote, size=size))
                slots -= 1
                budget.open_orders += 1
        quotes = tuple(approved)
        return (intent if quotes == intent.quotes else replace(intent, quotes=quotes)), decisions

    def _size_one(self, intent: Intent, quote: Quote, view: MarketView, ctx: RiskContext,
                  reducible: dict[Side, int], headroom: _Headroom) -> tuple[int, Decision | None]:
        lim = ctx.limits
        first: Decision | None = None
        size = quote.size
        if quote.tif in TAKE or (not quote.post_only and crosses(quote, view)):
            # Whatever its time in force: a GTC priced through the book executes on arrival too.
            mid = view.yes.mid if view.yes is not None else None
            if mid is None:
                return 0, self._decide(intent, quote, 0, Reason.NO_MID, "a take needs a two-sided book")
            if abs(quote.price - mid) > lim.probability("max_slippage"):
                return 0, self._decide(intent, quote, 0, Reason.MAX_SLIPPAGE,
                                       f"price {quote.price / MICRO:.4f} vs mid {mid / MICRO:.4f}")
        if size > lim.shares("max_order_size"):
            size = round_size(lim.shares("max_order_size"))
            first = self._decide(intent, quote, size, Reason.MAX_ORDER_SIZE, "")
        reduce = min(size, reducible[quote.side])
        reducible[quote.side] -= reduce
        increase = size - reduce
        reducing = ctx.reducing_reason(intent.strategy, intent.condition_id) if increase else None
        if reducing is not None:
            size, increase = reduce, 0
            first = first or self._decide(intent, quote, size, reducing, _reducing_detail(reducing, view))
        if increase:
            reason, room = headroom.binding()
            cost = increase * unit_cost(quote) // MICRO
            if cost > room:
                increase = round_size(room * MICRO // unit_cost(quote))
                size = reduce + increase
                first = first or self._decide(intent, quote, size, reason, f"room {room / MICRO:.2f} pUSD")
        if size and size * quote.price // MICRO < lim.usdc("min_order_value"):
            reducible[quote.side] += reduce  # refused: what it would have reduced is still there
            return 0, self._decide(intent, quote, 0, Reason.MIN_ORDER_VALUE, "")
        headroom.spend(increase * unit_cost(quote) // MICRO)
        if first is not None and first.approved != size:
            first = self._decide(intent, quote, size, first.reason, first.detail)
        return size, first

    @staticmethod
    def _decide(intent: Intent, quote: Quote, approved: int, reason: Reason, detail: str) -> Decision:
        return Decision(intent.strategy, intent.condition_id, quote.side, quote.price, quote.size, approved, reason,
                        detail)

    # -- placements --------------------------------------------------------------------

    def check_placement(self, ctx: RiskContext, strategy: str, market: MarketInfo, spec: OrderSpec,
                        open_orders: int | None = None, now_ms: int | None = None) -> Reason | None:
        """The last check before an order leaves: state, data age, the open-order limit
        against the orders open right now (`open_orders`, this one not included) and the
        order rate, at `now_ms` (default: the context's time). Each approval counts: the
        next check sees it."""
        now = ctx.now_ms if now_ms is None else now_ms
        if ctx.fills_dark:
            return Reason.FILLS_DARK
        if ctx.trading_state is TradingState.HALTED:
            return Reason.TRADING_HALTED
        if ctx.strategy_states.get(strategy) is TradingState.HALTED:
            return Reason.STRATEGY_HALTED
        if ctx.market_states.get(market.condition_id) is TradingState.HALTED:
            return Reason.VOLATILITY_HALTED
        if open_orders is not None and open_orders >= ctx.limits.count("max_open_orders"):
            return Reason.MAX_OPEN_ORDERS
        view = ctx.markets.get(market.condition_id)
        age = None if view is None else view.data_age_ms(now)
        if age is None or age > ctx.limits.ms("max_data_age"):
            return Reason.STALE_DATA
        window_start = now - ORDER_RATE_WINDOW_MS
        while self.placements and self.placements[0] < window_start:
            self.placements.popleft()
        if len(self.placements) >= ctx.limits.count("max_order_rate"):
            return Reason.MAX_ORDER_RATE
        self.placements.append(now)
        return None

    def rate_frees_at(self, now: int, limit: int) -> int | None:
        """When the order-rate limit, reached at `now`, lets an order through again (None: it is not
        reached, so nothing is held back by it)."""
        window_start = now - ORDER_RATE_WINDOW_MS
        if sum(1 for at in self.placements if at >= window_start) < limit:
            return None
        return next(at + ORDER_RATE_WINDOW_MS + 1 for at in self.placements if at >= window_start)
