"""The venue's reports go one way: the venue puts them on a queue of its own and the executor's
inbox drains it. The venue is handed nothing to call back (its `start` takes no sink)."""

from __future__ import annotations

import inspect
from pathlib import Path

from contracts.domain import Intent, Quote, Side, Tif
from engine.venues.base import TradeEvent, Venue
from engine.venues.paper import PaperVenue
from engine.venues.polymarket.venue import PolymarketVenue
from tests.desk import make_desk
from tests.execution.fakes import SH, p


def test_no_venue_is_handed_a_sink() -> None:
    for venue in (Venue, PaperVenue, PolymarketVenue):  # (a compiled method's signature leaves out self)
        assert [name for name in inspect.signature(venue.start).parameters if name != "self"] == [], venue


def test_a_fill_waits_on_the_venues_queue_until_the_inbox_drains_it(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "q.db")
    assert desk.executor.inbox.events is desk.venue.events
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    desk.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.50), 10 * SH, Tif.FAK),))])
    desk.run(desk.executor.reconcile())
    waiting = list(desk.venue.events._queue)  # type: ignore[attr-defined]  # the test desk's venue is the scripted one
    assert any(isinstance(e, TradeEvent) for e in waiting)  # the venue put its report and returned
    assert desk.rows("SELECT COUNT(*) FROM fills") == [(0,)]
    assert desk.executor.drain() == len(waiting)
    assert desk.venue.events.empty()
    assert desk.rows("SELECT size FROM fills") == [(10 * SH,)]
