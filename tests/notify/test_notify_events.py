"""Trade events a trader chooses to hear of, from a real executor and paper venue on a real SQLite
file to the notifier's queue (its steps run one at a time, on the desk's clock, with a recording
sender in place of apprise): fills, entries and exits per strategy; refusals and the venue's own
cancels but never ours; each channel on its own; a burst over the hourly cap ends in a digest,
not in silence; a stopped bot's full queue never holds up apprise."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.settings import load_settings
from engine.notify.intake import QUEUE_MAX
from engine.notify.notifier import Notifier
from storage.sqlite.db import Database
from tests.desk import Desk
from tests.execution.fakes import SH, p
from tests.notify.test_notifier import RecordingSender

TOKEN = "123456789:" + "A" * 35


def _notifier(desk: Desk, *, urls: str = "json://127.0.0.1:9/hook", telegram: bool = False) -> Notifier:
    env = {"TRADER_DB": str(desk.db.path), "TRADER_ENV_FILE": str(desk.db.path) + ".env", "NOTIFY_URLS": urls}
    if telegram:
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_ALLOWED_CHATS="42")
    return Notifier(load_settings(env), desk.db, clock=desk.clock)


def _choose(db: Database, choices: dict[str, object], **settings: object) -> None:
    values = {"notify_choices": json.dumps(choices), **settings}
    with db.write() as conn:
        for key, value in values.items():
            conn.execute(text("""INSERT INTO settings (key, value, version, updated_at, updated_by)
                                 VALUES (:k, :v, 1, 0, 't') ON CONFLICT (key) DO UPDATE SET value = excluded.value"""),
                         {"k": key, "v": json.dumps(value)})


def _trade(desk: Desk, strategy: str, side: Side, price: float, size: float, tif: Tif = Tif.FAK) -> None:
    desk.executor.set_intents([Intent(strategy, "c1", (Quote(side, p(price), round(size * SH), tif),))])
    desk.run(desk.executor.reconcile())
    desk.settle()
    desk.clock.advance(1000)
    desk.venue.advance()  # settles the paper fill (MATCHED -> MINED), so its shares can be sold
    desk.settle()


def _pump(notifier: Notifier, sender: RecordingSender) -> list[str]:
    before = len(sender.sent)
    notifier._take_alerts()
    notifier._take_events()
    notifier._flush_digests()
    while notifier._deliver_next(sender):
        pass
    return [title.split(" · desk")[0] for title, _, _ in sender.sent[before:]]


def _queued(db: Database, channel: str) -> list[str]:
    with db.read() as conn:
        return [t.split(" · desk")[0] for (t,) in conn.execute(text(
            "SELECT title FROM notifications WHERE channel = :c ORDER BY id"), {"c": channel})]


def test_entries_and_exits_of_the_chosen_strategy_notify_and_others_stay_quiet(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    _choose(desk.db, {"*": {"alert": ["apprise"]}, "mm": {"entry": ["apprise"], "exit": ["apprise"]}})
    notifier, sender = _notifier(desk), RecordingSender()
    _trade(desk, "mm", Side.BUY, 0.50, 10)  # opens the position: an entry
    _trade(desk, "other", Side.BUY, 0.50, 10)  # not chosen: nothing
    assert _pump(notifier, sender) == ["ENTRY · mm"]
    assert "BUY YES 10 @ 0.5 (taker" in sender.sent[0][1] and "in c1\n" in sender.sent[0][1]
    desk.books.set("Y1", bids=[(0.55, 100)], asks=[(0.57, 100)])
    _trade(desk, "mm", Side.SELL, 0.55, 10)  # back to no shares: an exit
    assert _pump(notifier, sender) == ["EXIT · mm"]
    _trade(desk, "mm", Side.BUY, 0.57, 5)  # a new position: an entry again
    _trade(desk, "mm", Side.BUY, 0.57, 5)  # adds to it: a fill, not an entry (fills not chosen)
    assert _pump(notifier, sender) == ["ENTRY · mm"]


def test_refusals_and_the_venues_cancels_notify_but_our_own_cancels_do_not(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    _choose(desk.db, {"*": {"refused": ["apprise"], "venue_cancel": ["apprise"]}})
    notifier, sender = _notifier(desk), RecordingSender()
    _trade(desk, "mm", Side.BUY, 0.49, 10, Tif.GTC)  # rests
    _trade(desk, "mm", Side.BUY, 0.47, 10, Tif.GTC)  # we cancel the first and rest the second
    assert desk.rows("SELECT price, status FROM orders ORDER BY id") == [(p(0.49), "CANCELED"), (p(0.47), "LIVE")]
    assert _pump(notifier, sender) == []
    with desk.db.write() as conn:  # the venue cancels the resting one on its own; a later order is refused
        conn.execute(text("UPDATE orders SET status = 'CANCELED', status_rank = 100 WHERE price = :p"), {"p": p(0.47)})
        conn.execute(text("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side,
                                 price, size, tif, status, status_rank, error, created_at, updated_at)
                             VALUES ('x1', 'paper', 'mm', 'c1', 'Y1', 'YES', 'BUY', 490000, 5000000, 'GTC',
                                     'PENDING_SUBMIT', 0, NULL, :now, :now)"""), {"now": desk.clock()})
        conn.execute(text("""UPDATE orders SET status = 'REJECTED', status_rank = 100,
                                 error = 'not enough balance / allowance' WHERE client_id = 'x1'"""))
    assert _pump(notifier, sender) == ["CANCELLED BY THE VENUE · mm", "ORDER REFUSED · mm"]
    assert "the venue said: not enough balance / allowance" in sender.sent[1][1]


def test_a_burst_of_fills_over_the_cap_ends_in_a_digest_not_silence(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 1000)])
    _choose(desk.db, {"*": {"fill": ["apprise"]}}, notify_max_per_hour=3, notify_digest_minutes=10)
    notifier, sender = _notifier(desk), RecordingSender()
    for _ in range(15):
        _trade(desk, "mm", Side.BUY, 0.50, 5)
    assert _pump(notifier, sender) == ["ENTRY · mm", "FILL · mm", "FILL · mm"]  # the cap: 3 an hour
    held = desk.rows("SELECT event, strategy, count FROM notify_digest")
    assert held == [("fill", "mm", 12)]
    desk.clock.advance(10 * 60_000)
    assert _pump(notifier, sender) == ["12 more fills in the last 10 min"]
    assert "12 fills (mm ×12); latest: fill mm: BUY YES 5 @ 0.5 in c1" in sender.sent[-1][1]
    # The digest is not counted against the cap, and what it summed up is not sent twice.
    assert _pump(notifier, sender) == [] and desk.rows("SELECT COUNT(*) FROM notify_digest") == [(0,)]


def test_each_channel_gets_what_was_chosen_for_it(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    _choose(desk.db, {"*": {"entry": ["telegram"]}, "mm": {"fill": ["apprise"]}})
    notifier, sender = _notifier(desk, telegram=True), RecordingSender()
    _trade(desk, "mm", Side.BUY, 0.50, 10)
    _trade(desk, "arb", Side.BUY, 0.50, 10)
    assert _pump(notifier, sender) == ["ENTRY · mm"]  # apprise: mm's fills only
    assert _queued(desk.db, "telegram") == ["ENTRY · mm", "ENTRY · arb"]  # the bot delivers these


def test_without_the_bot_configured_nothing_is_queued_for_it(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    _choose(desk.db, {"*": {"fill": ["telegram", "apprise"]}})
    notifier, sender = _notifier(desk), RecordingSender()
    _trade(desk, "mm", Side.BUY, 0.50, 10)
    assert _pump(notifier, sender) == ["ENTRY · mm"] and _queued(desk.db, "telegram") == []


def test_a_stopped_bot_never_holds_up_apprise(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 10_000)])
    _choose(desk.db, {"*": {"fill": ["telegram", "apprise"]}}, notify_max_per_hour=1000)
    notifier, sender = _notifier(desk, telegram=True), RecordingSender()
    for _ in range(QUEUE_MAX + 5):
        _trade(desk, "mm", Side.BUY, 0.50, 5)
    assert len(_pump(notifier, sender) + _pump(notifier, sender)) == QUEUE_MAX + 5  # apprise got every one
    assert len(_queued(desk.db, "telegram")) == QUEUE_MAX  # the bot's queue is full ...
    assert desk.rows("SELECT channel, count FROM notify_digest") == [("telegram", 5)]  # ... the rest wait counted


def test_old_events_found_late_are_counted_not_sent(desk: Desk, tmp_path: Path) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    _choose(desk.db, {"*": {"fill": ["apprise"], "alert": ["apprise"]}})
    _trade(desk, "mm", Side.BUY, 0.50, 10)
    desk.clock.advance(2 * 3_600_000)  # NOTIFY_URLS set two hours later: that fill is history
    notifier, sender = _notifier(desk), RecordingSender()
    assert _pump(notifier, sender) == []
    with desk.db.write() as conn:
        conn.execute(text("INSERT INTO alerts (created_at, level, source, code, message) "
                          "VALUES (:now, 'critical', 't', 'KILLED', 'kill: x')"), {"now": desk.clock()})
    assert _pump(notifier, sender) == ["CRITICAL KILLED"]
    assert "1 older than an hour when read" in sender.sent[-1][1]


def test_a_kalshi_fill_says_its_venue_market_and_fee(desk: Desk) -> None:
    from storage.desk.venue_pairs import add_pair
    from tests.execution.test_venue_ledgers import CID, TICKER, YES, kalshi_side

    add_pair(desk.db, condition_id="c1", kalshi_ticker=TICKER, inverted=False, polymarket_question="c1?",
             kalshi_title="Will the test pass on Kalshi?", warnings=[], actor="test")
    kalshi = kalshi_side(desk)
    desk.books.set(YES, bids=[(0.38, 50)], asks=[(0.40, 50)])
    _choose(desk.db, {"*": {"alert": ["apprise"]}, "kx": {"entry": ["apprise"]}})
    notifier, sender = _notifier(desk), RecordingSender()
    kalshi.executor.set_intents([Intent("kx", CID, (Quote(Side.BUY, p(0.40), 10 * SH, Tif.FAK),))])
    desk.run(kalshi.executor.reconcile())
    kalshi.executor.drain()
    assert _pump(notifier, sender) == ["ENTRY · kx"]
    body = sender.sent[0][1]
    assert "in Will the test pass on Kalshi?" in body  # the title the operator paired, not an id
    assert "fee 0.168 USD" in body  # Kalshi's fee, in dollars, to its $0.0001 (not rounded to the cent)
    assert "(paper on Kalshi," in body
