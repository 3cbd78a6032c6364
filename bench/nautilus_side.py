"""The same recording, the same quoting, in NautilusTrader: the peer with the desk's promise (its
strategies, risk engine and execution run unchanged in its backtests), beside hftbacktest in
bench/backtest.py. Runs in its own virtualenv (bench/.nautilus-venv), never in the desk's: it imports
nothing of the desk, only nautilus_trader and the standard library.

    bench/.nautilus-venv/bin/python bench/nautilus_side.py prepare RECORDING.db FOLDER
    bench/.nautilus-venv/bin/python bench/nautilus_side.py replay FOLDER [REACH_TICKS]

`prepare` converts the recording's ticks into NautilusTrader's data (one BinaryOption a token at the
venue POLYMARKET; a book snapshot is a CLEAR and an ADD a level, a level change an ADD, UPDATE or
DELETE, a print a TradeTick by its taker's side), kept in its Parquet data catalog in FOLDER (its
native store: a user converts once and replays many times, so this is not in the replay's wall; the
bench shows its time). `replay` loads the catalog and runs its BacktestEngine (a cash account of
10,000 USDC, the L2 book matched with trade execution on, no fees, no latency) with a market maker
quoting as bench/hftbacktest_side.py does (the desk's market maker and planner): a YES bid and a YES
ask a half-spread (0.01) around the YES mid, 20 shares, post-only, never closer to the touch than a
tick inside it, within 100 shares of net YES; a bid sells the NO held first and buys YES for the rest,
an ask sells the YES held first and bids NO (at 1 - the ask) for the rest; nothing under the 5-share
minimum; a working order at the wanted price and size is left, any other cancelled. It decides every
market at the recorded decision markers (time alerts) and, with REACH_TICKS (the desk's
`decide_on_events`; -1: a strategy reading only the touch's prices, as the bench's), a market as soon
as its YES touch's prices move, and on each fill of its own orders.
Prints one JSON line: `prepare` its time; `replay` events (the recording's rows), decisions, orders,
fills, the time to load and to replay, and each filled order (market, side, price in YES space).
"""

from __future__ import annotations

import json
import math
import sqlite3
import sys
import time
from decimal import Decimal
from pathlib import Path

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import BookOrder, OrderBookDelta, TradeTick
from nautilus_trader.model.enums import (
    AccountType,
    AggressorSide,
    AssetClass,
    BookAction,
    BookType,
    OmsType,
    OrderSide,
    RecordFlag,
    TimeInForce,
)
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, TraderId, Venue
from nautilus_trader.model.instruments import BinaryOption
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog
from nautilus_trader.trading.strategy import Strategy

MICRO = 1_000_000
MS = 1_000_000  # nanoseconds a millisecond
HALF_SPREAD, SIZE, TICK = 0.01, 20.0, 0.01
MIN_SIZE, MAX_INVENTORY = 5.0, 100.0
VENUE = Venue("POLYMARKET")
LAST = RecordFlag.F_LAST


def instrument(token: str) -> BinaryOption:
    symbol = Symbol(token)
    return BinaryOption(instrument_id=InstrumentId(symbol, VENUE), raw_symbol=symbol, outcome="Yes",
                        description=token, asset_class=AssetClass.ALTERNATIVE, currency=USDC, price_precision=2,
                        price_increment=Price.from_str("0.01"), size_precision=2,
                        size_increment=Quantity.from_str("0.01"), activation_ns=0, expiration_ns=2**62,
                        max_quantity=None, min_quantity=Quantity.from_int(5), maker_fee=Decimal(0),
                        taker_fee=Decimal(0), ts_event=0, ts_init=0)


def prepare(recording: str, folder: Path) -> None:
    began = time.perf_counter()
    conn = sqlite3.connect(recording)
    markets = conn.execute("SELECT yes_token, no_token FROM markets ORDER BY condition_id").fetchall()
    tokens = [m[0] for m in markets] + [m[1] for m in markets]
    ids = {t: InstrumentId(Symbol(t), VENUE) for t in tokens}
    levels: dict[str, dict[tuple[str, int], int]] = {t: {} for t in tokens}
    deltas: list[OrderBookDelta] = []
    trades: list[TradeTick] = []
    decisions: list[int] = []
    rows = 0
    for at, token, kind, side, price, size, data in conn.execute(
            "SELECT at, token_id, kind, side, price, size, data FROM ticks ORDER BY id"):
        ts = at * MS
        if kind == "decide":
            decisions.append(ts)
            continue
        if token not in ids:
            continue
        rows += 1
        iid, book = ids[token], levels[token]
        if kind == "book":
            snapshot = json.loads(data)
            book.clear()
            deltas.append(OrderBookDelta.clear(iid, 0, ts, ts))
            placed = [("BUY", p, s) for p, s in snapshot["b"]] + [("SELL", p, s) for p, s in snapshot["a"]]
            for n, (level_side, p, s) in enumerate(placed):
                book[(level_side, p)] = s
                deltas.append(OrderBookDelta(iid, BookAction.ADD, _order(level_side, p, s), LAST if n + 1 == len(
                    placed) else 0, 0, ts, ts))
        elif kind == "change":
            had = (side, price) in book
            if size:
                book[(side, price)] = size
                action = BookAction.UPDATE if had else BookAction.ADD
                deltas.append(OrderBookDelta(iid, action, _order(side, price, size), LAST, 0, ts, ts))
            elif had:
                del book[(side, price)]
                deltas.append(OrderBookDelta(iid, BookAction.DELETE, _order(side, price, 0), LAST, 0, ts, ts))
        elif kind == "trade":
            trades.append(TradeTick(iid, Price(price / MICRO, 2), Quantity(size / MICRO, 2),
                                    AggressorSide.BUYER if side == "BUY" else AggressorSide.SELLER,
                                    TradeId(f"t{rows}"), ts, ts))
    conn.close()
    catalog = ParquetDataCatalog(str(folder / "catalog"))
    catalog.write_data([instrument(t) for t in tokens])
    catalog.write_data(deltas)
    catalog.write_data(trades)
    (folder / "shape.json").write_text(json.dumps({"yes": [m[0] for m in markets], "no": [m[1] for m in markets],
                                                   "rows": rows, "decisions": decisions}))
    print(json.dumps({"prepare_s": time.perf_counter() - began}))


def _order(side: str, price: int, size: int) -> BookOrder:
    return BookOrder(OrderSide.BUY if side == "BUY" else OrderSide.SELL, Price(price / MICRO, 2),
                     Quantity(size / MICRO, 2), 0)


class Quoter(Strategy):
    """The bench's market maker (see the module's docstring), on every market of the recording."""

    def __init__(self, yes: list[str], no: list[str], decisions: list[int], reach: int | None) -> None:
        super().__init__()
        self.yes = [InstrumentId(Symbol(t), VENUE) for t in yes]
        self.no = [InstrumentId(Symbol(t), VENUE) for t in no]
        self.market_of = {iid: n for n, iid in enumerate(self.yes)} | {iid: n for n, iid in enumerate(self.no)}
        self.decision_times = decisions
        self.reach = reach
        self.touch: dict[int, tuple[object, object]] = {}
        self.decisions = self.sent = self.fills = 0
        self.fill_list: list[list] = []

    def on_start(self) -> None:
        for iid in self.yes + self.no:
            self.subscribe_order_book_deltas(iid, book_type=BookType.L2_MBP, managed=True)
        for n, ts in enumerate(self.decision_times):
            self.clock.set_time_alert_ns(f"decide-{n}", ts, self._decide_all)

    def _decide_all(self, _event: object) -> None:
        for market in range(len(self.yes)):
            self.requote(market)

    def on_order_book_deltas(self, deltas: object) -> None:
        if self.reach is None:
            return
        instrument = deltas.instrument_id  # type: ignore[attr-defined]  # NautilusTrader's OrderBookDeltas, untyped here
        market = self.market_of.get(instrument)
        if market is None or instrument != self.yes[market]:
            return
        book = self.cache.order_book(self.yes[market])
        touch = (book.best_bid_price(), book.best_ask_price())
        if touch != self.touch.get(market):
            self.touch[market] = touch
            self.requote(market)

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills += 1
        market = self.market_of[event.instrument_id]
        price = float(event.last_px)
        buy = event.order_side == OrderSide.BUY
        if event.instrument_id == self.yes[market]:
            self.fill_list.append([market, "BUY" if buy else "SELL", round(price * MICRO)])
        else:  # a NO order as the YES book sees it: the other side, at 1 - its price
            self.fill_list.append([market, "SELL" if buy else "BUY", round((1 - price) * MICRO)])
        if self.reach is not None:
            self.requote(market)

    def requote(self, market: int) -> None:
        self.decisions += 1
        yes, no = self.yes[market], self.no[market]
        book = self.cache.order_book(yes)
        if book is None:
            return
        best_bid, best_ask = book.best_bid_price(), book.best_ask_price()
        if best_bid is None or best_ask is None or best_ask <= best_bid:
            return
        bid_tick, ask_tick = round(float(best_bid) / TICK), round(float(best_ask) / TICK)
        mid = (bid_tick + ask_tick) * TICK / 2
        bid = min(math.floor((mid - HALF_SPREAD) / TICK + 1e-9), ask_tick - 1) * TICK
        ask = max(math.ceil((mid + HALF_SPREAD) / TICK - 1e-9), bid_tick + 1) * TICK
        yes_held = max(0.0, float(self.portfolio.net_position(yes)))
        no_held = max(0.0, float(self.portfolio.net_position(no)))
        net = yes_held - no_held
        buy_yes = sell_no = sell_yes = buy_no = 0.0
        if net + SIZE <= MAX_INVENTORY:  # the bid: sell the NO held first, buy YES for the rest
            sell_no = _reduce_first(SIZE, no_held)
            buy_yes = SIZE - sell_no
        if net - SIZE >= -MAX_INVENTORY:  # the ask: sell the YES held first, bid NO for the rest
            sell_yes = _reduce_first(SIZE, yes_held)
            buy_no = SIZE - sell_yes
        for iid, side, price, qty in ((yes, OrderSide.BUY, bid, buy_yes), (yes, OrderSide.SELL, ask, sell_yes),
                                      (no, OrderSide.BUY, 1.0 - ask, buy_no), (no, OrderSide.SELL, 1.0 - bid, sell_no)):
            self._keep_or_place(iid, side, round(price / TICK) * TICK, qty)

    def _keep_or_place(self, iid: InstrumentId, side: OrderSide, price: float, qty: float) -> None:
        kept = False
        for order in self.cache.orders_open(instrument_id=iid, strategy_id=self.id, side=side):
            if (not kept and qty >= MIN_SIZE and abs(float(order.price) - price) < TICK / 2
                    and (abs(float(order.quantity) - qty) < 1e-9 or abs(float(order.leaves_qty) - qty) < 1e-9)):
                kept = True
            elif not order.is_pending_cancel:
                self.cancel_order(order)
        if kept or qty < MIN_SIZE or price < TICK / 2 or price > 1.0 - TICK / 2:
            return
        self.submit_order(self.order_factory.limit(instrument_id=iid, order_side=side, quantity=Quantity(qty, 2),
                                                   price=Price(price, 2), time_in_force=TimeInForce.GTC,
                                                   post_only=True))
        self.sent += 1


def _reduce_first(size: float, held: float) -> float:
    """What of `size` a holding of `held` sells before the complement is bought (the planner's rule)."""
    reduce = min(size, held)
    if reduce < MIN_SIZE:
        return 0.0
    if 0.0 < held - reduce < MIN_SIZE:
        return held
    return reduce


def replay(folder: Path, reach: int | None) -> None:
    began = time.perf_counter()
    shape = json.loads((folder / "shape.json").read_text())
    catalog = ParquetDataCatalog(str(folder / "catalog"))
    instruments = catalog.instruments()
    data = [*catalog.order_book_deltas(), *catalog.trade_ticks()]
    engine = BacktestEngine(BacktestEngineConfig(trader_id=TraderId("BENCH-001"),
                                                 logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(venue=VENUE, oms_type=OmsType.NETTING, account_type=AccountType.CASH, base_currency=USDC,
                     starting_balances=[Money(10_000, USDC)], book_type=BookType.L2_MBP, trade_execution=True)
    for one in instruments:
        engine.add_instrument(one)
    engine.add_data(data)
    quoter = Quoter(shape["yes"], shape["no"], shape["decisions"], reach)
    engine.add_strategy(quoter)
    loaded = time.perf_counter()
    engine.run()
    replayed = time.perf_counter()
    engine.dispose()
    print(json.dumps({"events": shape["rows"], "decisions": quoter.decisions, "orders": quoter.sent,
                      "fills": quoter.fills, "load_s": loaded - began, "compile_s": 0.0,
                      "replay_s": replayed - loaded, "fill_list": quoter.fill_list}))


def main() -> None:
    if sys.argv[1:2] == ["prepare"] and len(sys.argv) == 4:
        prepare(sys.argv[2], Path(sys.argv[3]))
    elif sys.argv[1:2] == ["replay"] and len(sys.argv) in (3, 4):
        replay(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else None)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
