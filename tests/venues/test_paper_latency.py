"""The paper venue with a latency model: a placement acts when it arrives, against the book it
meets there; a cancel is acknowledged when it acts, and the order it targets can be picked off
meanwhile (counted); a cancel never overtakes its order; the kill's cancel-all catches what is in
flight. The same scripts under zero latency show what the model changed. Through the real
executor on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.domain import Intent, Quote, Side, Tif
from contracts.latency_spec import parse_latency
from engine.feeds.market_data_events import TradePrint
from engine.venues.base import VenueOrderStatus
from engine.venues.latency import ZERO, LatencyModel
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p


def model(text: str) -> LatencyModel:
    return LatencyModel(parse_latency(text))


def desk_with(tmp_path: Path, latency: LatencyModel) -> Desk:
    desk = make_desk(tmp_path / "lat.db", latency=latency)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    return desk


def step(desk: Desk, *quotes: Quote) -> None:
    desk.executor.set_intents([Intent("mm", "c1", quotes)])
    desk.run(desk.executor.reconcile())
    desk.settle()


def later(desk: Desk, ms: int) -> None:
    """Time passes; the venue's tick lands what arrived; the executor reads the reports."""
    desk.clock.advance(ms)
    desk.venue.advance()
    desk.settle()


def statuses(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT price, filled, status FROM orders ORDER BY id")


def test_a_placement_acts_when_it_arrives_against_the_book_it_meets(tmp_path: Path) -> None:
    desk = desk_with(tmp_path, model("constant:100,100,50"))
    step(desk, Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK))  # takes the ask, if it is still there
    assert statuses(desk) == [(p(0.52), 0, "LIVE")]  # answered DELAYED: sent, not yet acting
    assert desk.run(desk.venue.get_order(desk.rows("SELECT venue_order_id FROM orders")[0][0])).status is \
        VenueOrderStatus.DELAYED
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.56, 100)])  # the ask moves away before it lands
    later(desk, 149)
    assert statuses(desk) == [(p(0.52), 0, "LIVE")]  # 150 ms: data 50 + entry 100
    later(desk, 1)
    assert statuses(desk) == [(p(0.52), 0, "CANCELED")]  # nothing at 0.52 any more: the FAK ends empty
    assert desk.rows("SELECT COUNT(*) FROM fills") == [(0,)]


def test_with_zero_latency_the_same_placement_takes_the_ask(tmp_path: Path) -> None:
    desk = desk_with(tmp_path, ZERO)
    step(desk, Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK))
    assert statuses(desk) == [(p(0.52), 10 * SH, "FILLED")]


def _quote_then_pull(desk: Desk) -> None:
    """Rest a bid alone at its level, then withdraw it, and 60 ms later a seller hits that price."""
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))
    later(desk, 1_000)  # whatever the latency, it rests now
    assert [s[2] for s in statuses(desk)] == ["LIVE"]
    step(desk)  # the strategy withdraws its quote: a cancel
    desk.clock.advance(60)
    desk.venue.on_market_event(TradePrint("Y1", p(0.49), 50 * SH, Side.SELL, desk.clock()))
    later(desk, 1_000)


def test_a_cancel_in_flight_leaves_the_order_to_be_picked_off_and_counts_it(tmp_path: Path) -> None:
    desk = desk_with(tmp_path, model("constant:100,100,50"))
    _quote_then_pull(desk)
    assert statuses(desk) == [(p(0.49), 10 * SH, "FILLED")]  # hit while its cancel was on its way
    summary = desk.venue.inflight.summary()
    assert (summary["pickoffs"], summary["shares"], summary["bought"]) == (1, 10.0, 10.0)
    assert summary["notional"] == pytest.approx(4.9)


def test_with_zero_latency_the_cancel_beats_the_seller(tmp_path: Path) -> None:
    desk = desk_with(tmp_path, ZERO)
    _quote_then_pull(desk)
    assert statuses(desk) == [(p(0.49), 0, "CANCELED")]
    assert desk.venue.inflight.summary()["pickoffs"] == 0


def test_a_cancel_acts_when_it_arrives_and_is_acknowledged_then(tmp_path: Path) -> None:
    desk = desk_with(tmp_path, model("constant:100,300,0"))
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))
    later(desk, 100)
    step(desk)
    assert [s[2] for s in statuses(desk)] == ["CANCEL_PENDING"]  # its reservation stays until the ACK
    later(desk, 299)
    assert [s[2] for s in statuses(desk)] == ["CANCEL_PENDING"] and desk.venue.resting
    later(desk, 1)
    assert [s[2] for s in statuses(desk)] == ["CANCELED"] and not desk.venue.resting


def test_a_cancel_never_overtakes_the_order_it_names(tmp_path: Path) -> None:
    """Entry 300 ms, cancel 50 ms: the cancel waits for its order to arrive, so the order never
    rests with nobody cancelling it."""
    desk = desk_with(tmp_path, model("constant:300,50,0"))
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))
    later(desk, 10)
    step(desk)  # cancelled while still in flight
    later(desk, 290)
    assert [s[2] for s in statuses(desk)] == ["CANCELED"]
    assert not desk.venue.resting and not desk.venue.inflight.heap


def test_the_kill_cancel_all_catches_orders_still_in_flight(tmp_path: Path) -> None:
    desk = desk_with(tmp_path, model("constant:500,500,0"))
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))
    desk.executor.gate.block()
    outcome = desk.run(desk.executor.kill())
    assert (outcome["cancelled"], outcome["still_open"]) == (1, 0)
    later(desk, 1_000)  # nothing lands after the kill
    assert not desk.venue.resting and [s[2] for s in statuses(desk)] == ["CANCELED"]


def test_open_orders_list_what_is_in_flight_as_delayed(tmp_path: Path) -> None:
    """The venue sync must not close an order it cannot see yet."""
    desk = desk_with(tmp_path, model("constant:400,400,0"))
    step(desk, Quote(Side.BUY, p(0.49), 10 * SH))
    listed = desk.run(desk.venue.open_orders())
    assert [o.status for o in listed] == [VenueOrderStatus.DELAYED]
    later(desk, 400)
    assert [o.status for o in desk.run(desk.venue.open_orders())] == [VenueOrderStatus.LIVE]


def test_delays_are_drawn_reproducibly_from_the_seed(tmp_path: Path) -> None:
    from engine.venues.paper_latency import InFlight

    measured = LatencyModel(parse_latency("measured:10"), round_trips=(100, 200, 300, 400))
    draws = [InFlight(measured, 7).place(0, ()) for _ in range(1)]
    again = [InFlight(measured, 7).place(0, ()) for _ in range(1)]
    flight = InFlight(measured, 7)
    many = {flight.place(0, ()) for _ in range(200)}
    assert draws == again and many == {110, 210, 310, 410}  # data 10 + a live round trip, every one drawn


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
