"""The paper venue with a latency model: each placement and cancel takes its trip, as a call to
the venue does, while the market moves; a placement meets the book as it is on arrival; a
cancel's order rests, and can be picked off, until the cancel arrives (counted); a cancel-all
refuses a placement still on its way. The same scripts at zero latency show what the model
changed. Through the real executor on a real SQLite file."""

from __future__ import annotations

import dataclasses
import inspect
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from contracts.domain import Intent, Quote, Side, Tif
from contracts.latency_spec import parse_latency
from engine.feeds.market_data_events import TradePrint
from engine.venues.latency import ZERO, LatencyModel
from engine.venues.paper_latency import Trips
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p


def model(text: str) -> LatencyModel:
    return LatencyModel(parse_latency(text))


class World:
    """What happens in the market while a request is on its way: scripted events at their times,
    applied as a trip passes them (the role the replay plays in a backtest)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.events: list[tuple[int, Callable[[], object]]] = []
        self.trips: list[int] = []  # how long each trip took
        desk.venue.trips.wait_until = self.wait_until

    def after(self, ms: int, event: Callable[[], object]) -> None:
        self.events.append((self.desk.clock() + ms, event))

    async def wait_until(self, at: int) -> None:
        self.trips.append(at - self.desk.clock())
        due = sorted((e for e in self.events if e[0] <= at), key=lambda e: e[0])
        self.events = [e for e in self.events if e[0] > at]
        for when, event in due:
            self.desk.clock.now = when
            result = event()
            if inspect.isawaitable(result):
                await result
        self.desk.clock.now = max(self.desk.clock.now, at)


def desk_with(tmp_path: Path, latency: LatencyModel) -> tuple[Desk, World]:
    desk = make_desk(tmp_path / "lat.db", latency=latency)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    return desk, World(desk)


def step(desk: Desk, *quotes: Quote) -> None:
    desk.executor.set_intents([Intent("mm", "c1", quotes)])
    desk.run(desk.executor.reconcile())
    desk.settle()


def statuses(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT price, filled, status FROM orders ORDER BY id")


def _take_while_the_ask_moves(latency: LatencyModel, tmp_path: Path) -> tuple[Desk, World]:
    desk, world = desk_with(tmp_path, latency)
    world.after(100, lambda: desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.56, 100)]))
    step(desk, Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK))  # takes the ask, if it is still there
    return desk, world


def test_a_placement_meets_the_book_as_it_is_when_it_arrives(tmp_path: Path) -> None:
    desk, world = _take_while_the_ask_moves(model("constant:100,100,50"), tmp_path)
    assert world.trips == [150]  # market data 50 ms behind, then 100 ms to the venue
    assert statuses(desk) == [(p(0.52), 0, "REJECTED")]  # the ask had moved: nothing to take, refused
    assert desk.rows("SELECT COUNT(*) FROM fills") == [(0,)]


def test_with_zero_latency_the_same_take_fills(tmp_path: Path) -> None:
    desk, world = _take_while_the_ask_moves(ZERO, tmp_path)
    assert world.trips == [] and statuses(desk) == [(p(0.52), 10 * SH, "FILLED")]


def _quote_then_pull(latency: LatencyModel, tmp_path: Path) -> tuple[Desk, World]:
    """Rest a bid alone at its level, withdraw it, and 60 ms later a seller hits that price."""
    desk, world = desk_with(tmp_path, latency)
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))
    assert [s[2] for s in statuses(desk)] == ["LIVE"]
    world.after(60, lambda: desk.venue.on_market_event(TradePrint("Y1", p(0.49), 50 * SH, Side.SELL,
                                                                   desk.clock())))
    step(desk)  # the strategy withdraws its quote: a cancel
    for when, event in world.events:  # at zero latency nobody waits: the seller comes after all the same
        desk.clock.now = when
        event()
    desk.settle()
    return desk, world


def test_an_order_whose_cancel_is_on_its_way_is_picked_off_and_counted(tmp_path: Path) -> None:
    desk, world = _quote_then_pull(model("constant:100,100,50"), tmp_path)
    assert world.trips == [150, 150]  # the placement's, then the cancel's
    assert statuses(desk) == [(p(0.49), 10 * SH, "FILLED")]  # hit while its cancel was on its way
    summary = desk.venue.trips.summary()
    assert (summary["pickoffs"], summary["shares"], summary["bought"]) == (1, 10.0, 10.0)
    assert summary["notional"] == pytest.approx(4.9) and summary["model"] == "constant:100,100,50"


def test_with_zero_latency_the_cancel_beats_the_seller(tmp_path: Path) -> None:
    desk, _ = _quote_then_pull(ZERO, tmp_path)
    assert statuses(desk) == [(p(0.49), 0, "CANCELED")]
    assert desk.venue.trips.summary()["pickoffs"] == 0


def test_a_cancel_that_arrives_first_is_acknowledged_on_arrival(tmp_path: Path) -> None:
    desk, world = desk_with(tmp_path, model("constant:100,300,0"))
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))
    before = desk.clock()
    step(desk)
    assert world.trips == [100, 300] and desk.clock() - before == 300
    assert [s[2] for s in statuses(desk)] == ["CANCELED"] and not desk.venue.resting
    assert desk.venue.trips.summary()["pickoffs"] == 0


def test_a_placement_on_its_way_when_the_kill_cancels_everything_is_refused(tmp_path: Path) -> None:
    desk, world = desk_with(tmp_path, model("constant:500,500,0"))
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))  # rests
    world.after(200, lambda: desk.venue.cancel_all())  # the operator's kill, while the next one travels
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH), Quote(Side.SELL, p(0.55), 10 * SH))
    assert not desk.venue.resting  # nothing left behind the cancel-all
    rows = desk.rows("SELECT side, status, error FROM orders ORDER BY id")
    assert rows[0][1] == "CANCELED" and rows[1][1] == "REJECTED" and "cancel-all" in rows[1][2]


def test_delays_are_drawn_reproducibly_from_the_seed_and_the_desks_round_trips() -> None:
    measured = LatencyModel(parse_latency("measured:10"), round_trips=(100, 200, 300, 400))
    draws = [measured.order_delay(random.Random("latency-7")) for _ in range(3)]
    assert draws == [measured.order_delay(random.Random("latency-7")) for _ in range(3)]
    rng = random.Random(1)
    assert {measured.order_delay(rng) for _ in range(200)} == {110, 210, 310, 410}
    assert Trips(measured, 7, lambda: 0).summary()["model"] == "measured:10"


def test_measured_draws_from_the_desks_own_live_placements_only(tmp_path: Path) -> None:
    from sqlalchemy import text

    from contracts.domain import Outcome
    from engine.execution import store
    from engine.venues.latency import LatencyUnmeasured, resolve
    from storage.sqlite.db import Database
    from storage.sqlite.migrations import migrate

    migrate(tmp_path / "desk.db")
    db = Database(tmp_path / "desk.db")

    def placed(n: int, mode: str, answered_after: int) -> None:
        with db.write() as conn:
            row = store.insert_order(conn, client_id=f"c{n}", venue_order_id=f"v{n}", mode=mode, strategy="s",
                                     condition_id="c1", token_id="Y1", outcome=Outcome.YES, side=Side.BUY,
                                     price=p(0.5), size=5 * SH, tif=Tif.GTC, post_only=False, payload=None,
                                     reason=None, now=1_000, submitted_at=1_000)
            conn.execute(text("UPDATE orders SET acked_at = :at WHERE id = :id"),
                         {"at": 1_000 + answered_after, "id": row.id})

    for n in range(19):
        placed(n, "live", 100 + n)
    placed(100, "paper", 5)  # a paper placement is no round trip
    placed(101, "live", 60_000)  # answered by a lookup a minute later: its answer was lost, not slow
    with pytest.raises(LatencyUnmeasured, match="needs at least 20 .* this desk has 19"):
        resolve("measured", db)
    placed(19, "live", 119)
    measured = resolve("measured:30", db)
    assert sorted(measured.round_trips) == list(range(100, 120))
    assert measured.describe().startswith("measured from 20 live placements (median 110 ms, slowest 119 ms)")
    db.dispose()


def _crypto(desk: Desk) -> None:
    """Market c1 of the crypto category (its tags say so): the venue holds its takers."""
    info = desk.catalog.get("c1")
    assert info is not None
    desk.catalog.add(dataclasses.replace(info, tags=("Crypto", "Up or Down")))


def test_a_taker_on_a_crypto_market_is_held_by_the_venue_and_meets_the_book_as_it_is_then(tmp_path: Path) -> None:
    desk, world = desk_with(tmp_path, model("constant:100,100,50"))
    _crypto(desk)
    world.after(170, lambda: desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.56, 100)]))  # during the hold
    step(desk, Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK))
    assert world.trips == [150, 50]  # its trip, then the venue's 50 ms hold of a taker on a crypto market
    assert statuses(desk) == [(p(0.52), 0, "REJECTED")]  # the ask moved while it was held: nothing to take
    summary = desk.venue.trips.summary()
    assert summary["taker_holds"] == 1
    assert "1 taker order on crypto markets held 50 ms by the venue" in str(summary["described"])


def test_outside_the_crypto_category_the_same_take_is_not_held(tmp_path: Path) -> None:
    desk, world = desk_with(tmp_path, model("constant:100,100,50"))
    world.after(170, lambda: desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.56, 100)]))
    step(desk, Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK))
    assert world.trips == [150] and statuses(desk) == [(p(0.52), 10 * SH, "FILLED")]
    assert desk.venue.trips.summary()["taker_holds"] == 0


def test_the_hold_is_the_venues_whatever_the_latency_and_only_for_what_would_match_at_once(tmp_path: Path) -> None:
    desk, world = desk_with(tmp_path, ZERO)
    _crypto(desk)
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))  # a quote that crosses nothing: rests at once
    assert world.trips == [] and [s[2] for s in statuses(desk)] == ["LIVE"]
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH), Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK))
    assert world.trips == [50]  # zero latency: no trip, but the venue's hold all the same
    assert desk.rows("SELECT price, filled, status FROM orders WHERE tif = 'FAK'") == [(p(0.52), 10 * SH, "FILLED")]


def test_a_taker_held_when_the_kill_cancels_everything_is_refused(tmp_path: Path) -> None:
    desk, world = desk_with(tmp_path, model("constant:100,100,0"))
    _crypto(desk)
    world.after(120, lambda: desk.venue.cancel_all())  # the operator's kill while the venue holds the taker
    step(desk, Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK))
    assert world.trips == [100, 50]
    rows = desk.rows("SELECT status, error FROM orders")
    assert rows[0][0] == "REJECTED" and "cancel-all" in rows[0][1]
    assert desk.rows("SELECT COUNT(*) FROM fills") == [(0,)]
