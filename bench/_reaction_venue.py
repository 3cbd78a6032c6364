"""The venue side of bench/reaction.py, run in the bench's own process on the simulator's loop:
the clock both ends of a reaction are read on.

- `Receipts` notes when each order request of a client reaches the matching engine (a placement,
  or a cancel by order id: `DELETE /order(s)`, which both the desk and the bare client send), on
  `time.perf_counter`, before the request is applied;
- `BookMover` moves one market's touch at a known instant: the liquidity account's two levels
  are replaced by two levels two cents higher (or back), in one call on the loop, and the
  instant is read after the last change, before the loop can send any of its messages;
- `Flood` changes a level far from the touch of one market, flat out, on the loop (a busy
  market beside the quiet ones being moved).

These wrap the simulator's exchange object from outside (the bench's instrument, not the
simulator's behaviour): nothing is slowed or changed for the clients.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from simulator.testing import SimHandle

CENTRE = 0.50
LEVELS = {False: ("0.49", "0.51"), True: ("0.51", "0.53")}  # (bid, ask) of the liquidity account: down, up
LIQUIDITY_SIZE = "500"


@dataclass(frozen=True, slots=True)
class Receipt:
    at: float  # time.perf_counter(), on the simulator's loop
    owner: str  # the API key that sent it
    market: str  # condition id
    kind: str  # "place" or "cancel"


class Receipts:
    def __init__(self, sim: SimHandle) -> None:
        self.sim = sim
        self.seen: list[Receipt] = []
        self._lock = threading.Lock()
        sim.call(self._install)

    def _install(self) -> None:
        exchange = self.sim.sim.exchange
        place, cancel_ids = exchange.place, exchange.cancel_ids

        def placed(order: Any, *args: Any, **kwargs: Any) -> Any:
            if not order.internal:
                self._note(order.owner, (order.market.condition_id,), "place")
            return place(order, *args, **kwargs)

        def cancelled(owner: str, ids: Iterable[str]) -> Any:
            ids = list(ids)
            owned = exchange.open_by_owner.get(owner, {})
            self._note(owner, {owned[i].market.condition_id for i in ids if i in owned}, "cancel")
            return cancel_ids(owner, ids)

        # On the instance: the routes look the method up on each request.
        exchange.place = placed  # type: ignore[method-assign]  # the bench's probe around the real method
        exchange.cancel_ids = cancelled  # type: ignore[method-assign]  # the bench's probe around the real method

    def _note(self, owner: str, markets: Iterable[str], kind: str) -> None:
        at = time.perf_counter()
        with self._lock:
            self.seen.extend(Receipt(at, owner, market, kind) for market in markets)

    def first_after(self, owner: str, market: str, since: float) -> Receipt | None:
        """The owner's first request touching `market` after `since`."""
        found = None
        with self._lock:
            for receipt in reversed(self.seen):  # in time order: stop at the first older one
                if receipt.at <= since:
                    break
                if receipt.owner == owner and receipt.market == market:
                    found = receipt
        return found

    def open_ids(self, owner: str, market: str) -> frozenset[str]:
        """The owner's orders resting in `market` now."""
        def read() -> frozenset[str]:
            orders = self.sim.sim.exchange.open_by_owner.get(owner, {})
            return frozenset(oid for oid, o in orders.items() if o.market.condition_id == market)
        return self.sim.call(read)

    def owner_of(self, maker_address: str) -> str | None:
        """The API key whose resting orders are made by `maker_address` (a wallet)."""
        def read() -> str | None:
            for owner, orders in self.sim.sim.exchange.open_by_owner.items():
                if any(o.maker_address.lower() == maker_address.lower() for o in orders.values()):
                    return str(owner)
            return None
        return self.sim.call(read)

    def cancel_all_of(self, owner: str) -> None:
        def cancel() -> None:
            exchange = self.sim.sim.exchange
            exchange.cancel(list(exchange.open_by_owner.get(owner, {}).values()))
        self.sim.call(cancel)


class BookMover:
    """Each market's touch, held by the liquidity account at one of two places two cents apart."""

    def __init__(self, sim: SimHandle, markets: list[dict[str, Any]]) -> None:
        self.sim = sim
        self.markets = {m["condition_id"]: m for m in markets}
        self.up: dict[str, bool] = {}
        self.liquidity: dict[str, list[str]] = {}
        for market in markets:
            sim.clear_book(market["condition_id"])
            sim.call(self._set, market["condition_id"], False)

    def flip(self, market: str) -> float:
        """Move `market`'s touch to its other place; the instant (perf_counter) of the move."""
        return self.sim.call(self._set, market, not self.up.get(market, False))

    def reset(self) -> None:
        for market, up in list(self.up.items()):
            if up:
                self.flip(market)

    def _set(self, market: str, up: bool) -> float:
        """On the loop: cancel the two levels (one message), place the two new ones (one each)."""
        exchange, admin = self.sim.sim.exchange, self.sim.sim.admin
        old = set(self.liquidity.get(market, ()))
        exchange.cancel([o for o in exchange.books[market].orders() if o.id in old])
        token = self.markets[market]["yes_token_id"]
        bid, ask = LEVELS[up]
        placed = [admin.place_liquidity(token, "BUY", bid, LIQUIDITY_SIZE),
                  admin.place_liquidity(token, "SELL", ask, LIQUIDITY_SIZE)]
        at = time.perf_counter()  # the loop sends nothing before this call returns
        self.liquidity[market] = [p["order_id"] for p in placed]
        self.up[market] = up
        return at


class Flood:
    """`rate` book changes a second on one market: a 5-share bid at 0.30 (far from the touch),
    placed and cancelled in turns, in bursts every 5 ms or so; `changes` counts them."""

    def __init__(self, sim: SimHandle, market: dict[str, Any], rate: int) -> None:
        self.sim, self.market, self.rate = sim, market, rate
        self.changes = 0
        self.started = 0.0
        self._stop = threading.Event()
        self._task: Any = None

    def start(self) -> None:
        self.started = time.perf_counter()
        self._task = asyncio.run_coroutine_threadsafe(self._run(), self.sim.loop)

    def stop(self) -> float:
        """Stop; the changes made per second."""
        self._stop.set()
        if self._task is not None:
            self._task.result(10)
        return self.changes / max(1e-9, time.perf_counter() - self.started)

    async def _run(self) -> None:
        exchange, admin = self.sim.sim.exchange, self.sim.sim.admin
        token, market = self.market["yes_token_id"], self.market["condition_id"]
        resting: str | None = None
        while not self._stop.is_set():
            owed = int(self.rate * (time.perf_counter() - self.started)) - self.changes  # catching up a late wake
            for _ in range(min(owed, max(1, self.rate // 20))):
                if resting is None:
                    resting = admin.place_liquidity(token, "BUY", "0.30", "5")["order_id"]
                else:
                    exchange.cancel([o for o in exchange.books[market].orders() if o.id == resting])
                    resting = None
                self.changes += 1
            await asyncio.sleep(0.005)

