"""Markets closing, being determined and paid, and the exchange's pauses.

Settlement, from Kalshi's Market Lifecycle and Market Settlement pages: at close every resting
order is cancelled; `determine` sets the result (`yes`, `no`, or `scalar` with a YES contract's
value) and the settlement timer starts; `finalize` pays each net position, the payout rounded down
to whole cents (the difference is the settlement's fee), and lists one settlement per holder.

A void is not in Kalshi's published enums any more, and how one shows now is not documented: the
simulator takes the stricter reading and reports a voided market as `finalized` with an empty
result and no settlement value, and each holder's settlement as `scalar` with no `value`, paying
back what the position cost (rounded down to cents). A desk cannot tell it from the result: it must
book what the settlement says was paid.

Pauses (Maintenance and Pauses): every Thursday 03:00-05:00 US Eastern a trading pause (placing
and amending refused, cancels allowed), and on demand an exchange pause (cancels refused too).
When a pause begins, resting orders sent with `cancel_order_on_pause` are cancelled. How a refusal
of a pause reads is not on Kalshi's pages; it is answered as live clients log it: HTTP 409 with
code `trading_is_paused` (one client counted 335 of them in half an hour, on a halted market and in
the weekly pause), and `exchange_is_paused` for an exchange pause (the code another client matches
beside it). A whole batch create in a pause is refused so; a paused (`inactive`) market's orders
inside a batch are refused so item by item (exchange.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .exchange import Exchange, Refused
from .market import Market
from .orders import Settlement, mul
from .units import MICRO

EASTERN = ZoneInfo("America/New_York")
WEEKLY_PAUSE = (3, 3, 5)  # Thursday (weekday 3), 03:00 to 05:00 Eastern
RESULTS = ("yes", "no", "scalar", "void")


@dataclass
class Window:
    start_ms: int
    end_ms: int
    kind: str  # trading | exchange


def weekly_windows(now_ms: int, weeks: int = 4) -> list[Window]:
    """The scheduled Thursday trading pauses from this week on."""
    now = datetime.fromtimestamp(now_ms / 1000, EASTERN)
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for week in range(weeks):
        day = monday + timedelta(days=7 * week + WEEKLY_PAUSE[0])
        start = day.replace(hour=WEEKLY_PAUSE[1])
        end = day.replace(hour=WEEKLY_PAUSE[2])
        out.append(Window(int(start.astimezone(UTC).timestamp() * 1000), int(end.astimezone(UTC).timestamp() * 1000),
                          "trading"))
    return [w for w in out if w.end_ms > now_ms]


class Lifecycle:
    def __init__(self, exchange: Exchange, *, weekly: bool = True) -> None:
        self.ex = exchange
        self.weekly = weekly  # the Thursday pause (off only by the simulator's leniency flag)
        self.extra: list[Window] = []  # pauses announced on demand (the admin API)
        self.paused_kind: str | None = None  # the pause in force, as last applied

    # -- pauses -------------------------------------------------------------------------

    def windows(self, now_ms: int) -> list[Window]:
        scheduled = weekly_windows(now_ms) if self.weekly else []
        return sorted(scheduled + [w for w in self.extra if w.end_ms > now_ms],
                      key=lambda w: w.start_ms)

    def pause_now(self, now_ms: int) -> Window | None:
        found = [w for w in self.windows(now_ms) if w.start_ms <= now_ms < w.end_ms]
        return max(found, key=lambda w: w.kind == "exchange") if found else None

    def tick(self, now_ms: int) -> None:
        """Apply what time brings: a pause beginning (cancel-on-pause orders cancelled), markets past
        their close time closed, determined markets paid once their timer ran."""
        window = self.pause_now(now_ms)
        kind = window.kind if window else None
        if kind is not None and kind != self.paused_kind:
            for ticker in self.ex.books:
                self.ex.close_resting(ticker, now_ms, "HaltCancel", lambda o: o.cancel_on_pause)
        self.paused_kind = kind
        for market in self.ex.markets.values():
            if market.status == "initialized" and now_ms >= market.open_ms:
                market.status = "active"
            if market.status in ("active", "inactive") and now_ms >= market.close_ms:
                self.close(market.ticker, now_ms)
            if market.status in ("determined", "amended") and market.determined_ms is not None and \
                    now_ms >= market.determined_ms + market.settlement_timer_s * 1000:
                self.finalize(market.ticker, now_ms)

    def check_write(self, now_ms: int, *, cancel: bool) -> None:
        """Refuse an order operation the pause in force does not allow."""
        window = self.pause_now(now_ms)
        if window is None:
            return
        if window.kind == "exchange":
            raise Refused(409, "exchange_is_paused", "the exchange is paused", "no order operation is taken")
        if not cancel:
            raise Refused(409, "trading_is_paused", "trading is paused", "orders may be cancelled, not placed")

    # -- a market's life ------------------------------------------------------------------

    def _market(self, ticker: str) -> Market:
        return self.ex.market(ticker)

    def close(self, ticker: str, now_ms: int) -> None:
        market = self._market(ticker)
        market.status, market.close_ms, market.updated_ms = "closed", min(market.close_ms, now_ms), now_ms
        self.ex.close_resting(ticker, now_ms, "CloseCancel")

    def deactivate(self, ticker: str, now_ms: int) -> None:
        market = self._market(ticker)
        if market.status == "active":
            market.status, market.updated_ms = "inactive", now_ms

    def activate(self, ticker: str, now_ms: int) -> None:
        """Trading back on; every resting order is cancelled on reactivation, as Kalshi does."""
        market = self._market(ticker)
        if market.status == "inactive":
            market.status, market.updated_ms = "active", now_ms
            self.ex.close_resting(ticker, now_ms, "HaltCancel")

    def determine(self, ticker: str, result: str, value: int | None, timer_s: int | None, now_ms: int) -> None:
        market = self._market(ticker)
        if result not in RESULTS:
            raise Refused(400, "invalid_parameters", "result must be yes, no, scalar or void")
        if market.status == "finalized":
            raise Refused(400, "invalid_parameters", f"market {ticker} is finalized already")
        if result == "scalar" and (value is None or not 0 <= value <= MICRO):
            raise Refused(400, "invalid_parameters", "a scalar result needs a value from 0 to 1")
        if market.status in ("active", "inactive", "initialized"):
            self.close(ticker, now_ms)
        market.voided = result == "void"
        market.result = "" if market.voided else result
        market.settlement_value = None if market.voided else \
            {"yes": MICRO, "no": 0}.get(result, value)
        market.status = "amended" if market.status in ("determined", "disputed") else "determined"
        market.determined_ms, market.updated_ms = now_ms, now_ms
        if timer_s is not None:
            market.settlement_timer_s = timer_s

    def dispute(self, ticker: str, now_ms: int) -> None:
        market = self._market(ticker)
        if market.status == "determined":
            market.status, market.updated_ms = "disputed", now_ms

    def finalize(self, ticker: str, now_ms: int) -> list[Settlement]:
        """Pay every net position of a determined market and list its settlements."""
        market = self._market(ticker)
        if market.status not in ("determined", "amended", "disputed"):
            raise Refused(400, "invalid_parameters", f"market {ticker} is {market.status}: not determined")
        market.status, market.settled_ms, market.updated_ms = "finalized", now_ms, now_ms
        done = []
        for account in self.ex.accounts.values():
            held = account.positions.get(ticker)
            if held is None or held.count == 0:
                continue
            record = self._pay(market, account.name, held.count, held.cost, now_ms)
            account.credit(market.exchange_index, record.revenue_cents * 10_000)  # paid on the market's shard
            held.realized_pnl += record.revenue_cents * 10_000 - held.cost
            held.count, held.cost, held.updated_ms = 0, 0, now_ms
            account.settlements.append(record)
            for on_position in self.ex.listeners.position:
                on_position(account, ticker)
            done.append(record)
        return done

    def _pay(self, market: Market, account: str, count: int, cost: int, now_ms: int) -> Settlement:
        yes, no = max(0, count), max(0, -count)
        if market.voided:
            owed, value, result = cost, None, "scalar"
        else:
            value = market.settlement_value or 0
            owed = mul(yes, value) + mul(no, MICRO - value)
            result = market.result
        cents = owed // 10_000
        return Settlement(market.ticker, market.event_ticker, result, None if market.voided else
                          (value // 10_000 if value is not None else None), yes, cost if yes else 0, no,
                          cost if no else 0, cents, owed - cents * 10_000, now_ms, market.exchange_index)
