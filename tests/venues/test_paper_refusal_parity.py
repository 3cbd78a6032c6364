"""The paper venue refuses what the venue refuses: every refusal the simulator knows of an order
(simulator/validation.py, rules.py, exchange.py), one order at a time, sent the live way (the
desk's signer and adapter, to the strict simulator) and to the paper venue on the same book with
the same wallet, and refused by both for the same reason.

The simulator's other refusals are not about an order the desk could send: a malformed payload, an
owner or signature that is not the API key's, a plain-EOA maker (the wallet's set-up: preflight),
rate limits and the weekly restart's post-only phase (the venue's state, met live only), injected
faults, and a duplicate (the live adapter reads an order sent twice as the same order, by lookup).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from contracts.domain import MICRO, MarketInfo, Side, Tif
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import OrderRejected, OrderRequest
from engine.venues.latency import ZERO
from engine.venues.paper import PaperConfig, PaperVenue
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.venues.conftest import FAST, settings_for

SH = MICRO
# The reason a refusal gives, by the words of the venue's message (and of the desk's signer, which
# refuses some orders before they are sent); each message must name exactly one.
REASONS = {
    "payload": ("invalid order payload",),
    "tick": ("tick size rule", "tick grid"),
    "lot": ("multiple of 0.01 shares", "max accuracy of 2 decimals"),
    "post_only_take": ("only gtc and gtd order types are allowed", "only allowed for gtc and gtd orders"),
    "min_size": ("lower than the minimum",),
    "expiration": ("invalid expiration",),
    "not_ready": ("not yet ready to process new orders",),
    "balance": ("not enough balance / allowance",),
    "post_only_cross": ("order crosses book",),
    "fok": ("fok orders are fully filled or killed",),
    "fak": ("no orders found to match with fak order",),
    "min_marketable": ("min size: $1",),
}


def reason(message: str) -> str:
    text = message.lower()
    found = [name for name, words in REASONS.items() if any(w in text for w in words)]
    assert len(found) == 1, f"{message!r} names {found or 'no reason'}"
    return found[0]


@dataclass(frozen=True)
class Case:
    name: str
    why: str  # the reason both must give
    side: Side
    price: str
    size: str
    tif: Tif = Tif.GTC
    asks: tuple[tuple[str, str], ...] = (("0.55", "30"),)  # the YES book's levels (price, shares)
    bids: tuple[tuple[str, str], ...] = (("0.45", "30"),)
    post_only: bool = False
    tick: str | None = None  # what the desk believes the tick is (default: the market's)
    expires_in_s: int = 0
    market: str = "open"  # "open", "closed", or "unknown" (a token the venue has no market for)


CASES = [
    Case("unknown token", "payload", Side.BUY, "0.45", "10", market="unknown"),
    Case("a price off the market's tick (it changed since)", "tick", Side.BUY, "0.455", "10", tick="0.001"),
    Case("a size off the 0.01-share lot", "lot", Side.BUY, "0.45", "10.005"),
    Case("post-only fill-or-kill", "post_only_take", Side.BUY, "0.55", "10", Tif.FOK, post_only=True),
    Case("a resting size under the minimum", "min_size", Side.BUY, "0.40", "1"),
    Case("a GTD expiring too soon", "expiration", Side.BUY, "0.40", "10", Tif.GTD, expires_in_s=90),
    Case("a closed market", "not_ready", Side.BUY, "0.40", "10", market="closed"),
    Case("a SELL of shares the wallet does not hold", "balance", Side.SELL, "0.60", "10"),
    Case("a BUY beyond the wallet's cash", "balance", Side.BUY, "0.40", "30000"),
    Case("a post-only order that would take", "post_only_cross", Side.BUY, "0.55", "10", post_only=True),
    Case("a FOK the book cannot fill", "fok", Side.BUY, "0.55", "40", Tif.FOK),
    Case("a FAK that finds nothing", "fak", Side.BUY, "0.50", "10", Tif.FAK),
    Case("a marketable GTC BUY worth under $1", "min_marketable", Side.BUY, "0.15", "5", asks=(("0.15", "30"),),
         bids=(("0.10", "30"),)),
    Case("a FOK BUY worth under $1", "min_marketable", Side.BUY, "0.30", "3", Tif.FOK, asks=(("0.30", "30"),),
         bids=(("0.20", "30"),)),
    Case("a FAK BUY worth under $1", "min_marketable", Side.BUY, "0.55", "1.5", Tif.FAK),
]


def micros(text: str) -> int:
    return int(Decimal(text) * MICRO)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Strict: no leniency asked for (a deposit wallet, as the venue wants of new accounts).
    with approved_simulator(seed=97, agents=False, prefill_books=False, maintenance_schedule="off") as handle:
        yield handle


def _info(row: dict[str, Any]) -> MarketInfo:
    return MarketInfo(row["condition_id"], row["question"], row["yes_token_id"], row["no_token_id"],
                      micros(row["tick_size"]), micros(row["min_size"]), neg_risk=row["neg_risk"],
                      fee_rate_ppm=micros(row["fee_rate"]), fee_exponent=int(row["fee_exponent"]))


class Sides:
    """The same order sent the live way and to the paper venue."""

    def __init__(self, sim: SimHandle, tmp: Path, loop: asyncio.AbstractEventLoop):
        self.sim, self.loop = sim, loop
        key, funder = "0x" + secrets.token_hex(32), Account.create().address
        sim.link_funder(Account.from_key(key).address, funder, 3)
        self.live = PolymarketVenue(settings_for(sim, key, POLY_SIGNATURE_TYPE="3", POLY_FUNDER=funder), FAST)
        rows = [m for m in sim.markets() if not m["sports"] and not m["neg_risk"]]
        self.open, self.closed = rows[0], rows[1]
        sim.resolve(self.closed["condition_id"])  # trading there stops at once
        self.infos = {"open": _info(self.open), "closed": replace(_info(self.closed), closed=True)}
        migrate(tmp / "paper.db")
        self.books = BookCache()
        self.paper = PaperVenue(Database(tmp / "paper.db"), self.books, MarketCatalog(self.infos.values()),
                                config=PaperConfig(latency=ZERO))  # answers at once, as the venue's POST does
        loop.run_until_complete(self.paper.start())

    def book(self, case: Case) -> None:
        """The open market's YES book as the case says, at the venue and in the paper venue's feed."""
        yes = self.open["yes_token_id"]
        self.sim.clear_book(self.open["condition_id"])
        for side, levels in (("BUY", case.bids), ("SELL", case.asks)):
            for price, size in levels:
                self.sim.place_liquidity(yes, side, price, size)
        bids = [(micros(p), micros(s)) for p, s in case.bids]
        asks = [(micros(p), micros(s)) for p, s in case.asks]
        self.books.apply_snapshot(yes, bids, asks, int(time.time() * 1000))
        self.books.apply_snapshot(self.open["no_token_id"], [(MICRO - p, s) for p, s in asks],
                                  [(MICRO - p, s) for p, s in bids], int(time.time() * 1000))

    def request(self, case: Case) -> OrderRequest:
        info = self.infos["closed" if case.market == "closed" else "open"]
        token = str(10**70 + 7) if case.market == "unknown" else info.yes_token
        tick = micros(case.tick) if case.tick else info.tick
        return OrderRequest(secrets.token_hex(6), info.condition_id, token, case.side, micros(case.price),
                            micros(case.size), case.tif, case.post_only,
                            int(time.time()) + case.expires_in_s if case.tif is Tif.GTD else 0, tick=tick)

    def refusal(self, venue: Any, req: OrderRequest) -> str:
        async def send() -> str:
            try:
                placed = await venue.submit(await venue.prepare(req))
            except OrderRejected as exc:
                return str(exc)
            return f"accepted: {placed}"
        return self.loop.run_until_complete(send())


@pytest.fixture(scope="module")
def sides(sim: SimHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sides]:
    loop = asyncio.new_event_loop()
    both = Sides(sim, tmp_path_factory.mktemp("parity"), loop)
    try:
        yield both
    finally:
        loop.run_until_complete(both.live.close())
        loop.run_until_complete(both.paper.close())
        loop.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_paper_refuses_what_the_venue_refuses_for_the_same_reason(sides: Sides, case: Case) -> None:
    sides.book(case)
    req = sides.request(case)
    live, paper = sides.refusal(sides.live, req), sides.refusal(sides.paper, req)
    assert (reason(live), reason(paper)) == (case.why, case.why), (live, paper)


# Every place the simulator refuses an order, by file and the start of what it raises: the reason
# a case above proves paper gives too, or why no desk order can meet it. A new refusal there fails
# the test below until it is placed here (and, if a desk order can meet it, given a case).
NOT_A_DESK_ORDER = "not an order the desk can send"
SIMULATOR_REFUSALS: dict[tuple[str, str], tuple[str, ...]] = {
    ("exchange.py", 'f"order {order.id} is invalid. Duplicated."'): (NOT_A_DESK_ORDER,),
    ("exchange.py", "rules.NOT_READY_ERROR"): ("not_ready",),
    ("exchange.py", "rules.POST_ONLY_ERROR, in_body=True"): ("post_only_cross",),
    ("exchange.py", "problem"): ("balance",),
    ("exchange.py", "reason"): ("fok", "fak", "min_marketable"),  # rules.fill_rule_failure, below_min_marketable
    ("http_trading.py", "IN_BODY_FAULT, in_body=True"): (NOT_A_DESK_ORDER,),  # an injected fault
    ("http_trading.py", "POST_ONLY_MODE_ERROR"): (NOT_A_DESK_ORDER,),  # the weekly restart's phase
    ("http_trading.py", "unapproved"): (NOT_A_DESK_ORDER,),  # the wallet's approvals (preflight --approve)
    ("validation.py", "INVALID_PAYLOAD"): ("payload",),  # an unknown token; the others: a malformed payload
    ("validation.py", '"the order owner has to be the owner of the API KEY"'): (NOT_A_DESK_ORDER,),
    ("validation.py", "EOA_MAKER_ERROR"): (NOT_A_DESK_ORDER,),  # the wallet's set-up (preflight)
    ("validation.py", '"invalid post-only order: only GTC and GTD order types are allowed"'): ("post_only_take",),
    ("validation.py", 'f"order {order_id} is invalid. Size ({fmt(shares)}) lower than the minimum: "'): ("min_size",),
    ("validation.py", '"invalid signature"'): (NOT_A_DESK_ORDER,),
    ("validation.py", '"the order signer address has to be the address of the API KEY"'): (NOT_A_DESK_ORDER,),
    ("validation.py", 'f"invalid amounts, the market {kind} orders maker amount supports a max "'): ("lot",),
    ("validation.py", 'f"invalid amounts, the buy orders maker amount supports a max accuracy of "'): ("lot",),
    ("validation.py", 'f"invalid amounts, the sell orders maker amount supports a max accuracy of "'): ("lot",),
    ("validation.py", 'f"order {order_id} is invalid. Price ({implied:f}) breaks minimum tick "'): ("tick",),
    ("validation.py", '"invalid expiration"'): ("expiration",),
}


def test_every_refusal_the_simulator_knows_is_a_case_or_out_of_the_desks_reach() -> None:
    root = Path(__file__).resolve().parents[2] / "simulator"
    sites = set()
    for path in root.glob("*.py"):
        for line in path.read_text().splitlines():
            found = re.search(r"raise OrderRejected\((.*?)\)?( from None)?$", line.strip())
            if found:
                sites.add((path.name, found.group(1).rstrip(")")))
    assert sites == set(SIMULATOR_REFUSALS), sites ^ set(SIMULATOR_REFUSALS)
    reasons = {r for rs in SIMULATOR_REFUSALS.values() for r in rs} - {NOT_A_DESK_ORDER}
    assert reasons == {c.why for c in CASES}
