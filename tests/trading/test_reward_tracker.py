"""The desk's rewards tracker on a real database: each resting order's scoring, the estimated
reward per market, strategy and day, and the paper payout booked as cash at the day's end.

Scripted: a program of 20 pUSD a day, 3 cents, 20 shares. Strategy `mm` (paper) bids YES at
0.49 x 100 and buys NO at 0.49 x 100 (an ask at 0.51 in YES space); strategy `far` bids 0.45 x 50.
The visible book (the venue's, which paper orders are not in) has 200 shares at 0.48 and 0.52.
Adjusted midpoint 0.50: `mm` scores (4/9 per share, 400/9 a side), the book 1/9 x 200 = 200/9 a
side, so the desk holds 2/3 of the sample; `far` (5 cents out) scores nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import Book, Level
from engine.trading.settlement.rewards import RewardTracker, program_rows, score_market, split_paid, yes_quote
from engine.venues.paper_settlement import reward_credits
from storage.dashboard_queries import strategy_queries
from storage.engine_stores import reward_queries as rq
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

CID, YES, NO = "0x" + "ab" * 32, "111", "222"
DAY0 = 1_790_000_000_000 - 1_790_000_000_000 % 86_400_000 + 3_600_000  # 01:00 UTC of some day
BOOK = Book(YES, (Level(480_000, 200_000_000),), (Level(520_000, 200_000_000),), DAY0)


class Clock:
    def __init__(self, at: int) -> None:
        self.at = at

    def __call__(self) -> int:
        return self.at


def _order(conn, strategy: str, token: str, outcome: str, side: str, price: int, size: int, mode: str = "paper"):
    conn.execute(text("""INSERT INTO orders (client_id, venue_order_id, mode, strategy, condition_id, token_id,
                             outcome, side, price, size, filled, tif, status, status_rank, created_at, updated_at)
                         VALUES (:c, :v, :m, :s, :cid, :t, :o, :side, :p, :size, 0, 'GTC', 'LIVE', 10, 0, 0)"""),
                 {"c": f"{strategy}-{side}-{price}-{outcome}-{mode}", "v": f"0x{strategy}{price}{outcome}{mode}",
                  "m": mode, "s": strategy,
                  "cid": CID, "t": token, "o": outcome, "side": side, "p": price, "size": size})


@pytest.fixture
def db(tmp_path: Path) -> Database:
    migrate(tmp_path / "r.db")
    database = Database(tmp_path / "r.db")
    rq.save_programs(database, [rq.ProgramRow(CID, 20_000_000, 30_000, 20_000_000)], DAY0)
    with database.write() as conn:
        _order(conn, "mm", YES, "YES", "BUY", 490_000, 100_000_000)
        _order(conn, "mm", NO, "NO", "BUY", 490_000, 100_000_000)
        _order(conn, "far", YES, "YES", "BUY", 450_000, 50_000_000)
        _order(conn, "mm", YES, "YES", "BUY", 490_000, 100_000_000, mode="live")  # another mode: not counted
    return database


def test_orders_are_scored_in_the_yes_space_and_the_desk_share_is_exact(db):
    orders = rq.resting_orders(db, "paper", [CID])
    assert [yes_quote(o).yes_side for o in orders] == ["bid", "ask", "bid"]
    assert yes_quote(orders[1]).price == 510_000
    sample = score_market(orders, BOOK, rq.programs(db)[CID], own_in_book=False)
    assert [sample.scoring[o.id] for o in orders] == [True, True, False]
    assert sample.shares == {"mm": 666_666_666_666}


def test_live_takes_the_desks_own_orders_out_of_the_visible_book(db):
    orders = rq.resting_orders(db, "paper", [CID])[:2]
    # Live, the desk's two quotes are in the venue's book too: taken out, the share is the same.
    with_mine = Book(YES, (Level(490_000, 100_000_000), Level(480_000, 200_000_000)),
                     (Level(510_000, 100_000_000), Level(520_000, 200_000_000)), DAY0)
    program = rq.programs(db)[CID]
    assert score_market(orders, with_mine, program, own_in_book=True).shares == {"mm": 666_666_666_666}
    # Counted twice (as its own and as the book's), the desk would hold 400/9 of 1000/9.
    assert score_market(orders, with_mine, program, own_in_book=False).shares == {"mm": 400_000_000_000}


def test_a_sample_records_each_orders_scoring_and_the_days_estimate(db):
    clock = Clock(DAY0)
    tracker = RewardTracker(db, clock)
    assert tracker.sample("paper", lambda token: BOOK if token == YES else None, lambda cid: YES) == 3
    tracker.sample("paper", lambda token: BOOK, lambda cid: YES)
    with db.read() as conn:
        scores = conn.execute(text("SELECT strategy, samples, scoring_samples, scoring FROM reward_scores "
                                   "WHERE mode = 'paper' ORDER BY order_id")).all()
        days = conn.execute(text("SELECT day, strategy, samples, share, estimated, paid FROM reward_days")).all()
    assert [tuple(r) for r in scores] == [("mm", 2, 2, 1), ("mm", 2, 2, 1), ("far", 2, 0, 0)]
    # Two samples of 2/3 over a day of 1440: 20 pUSD * 1,333,333,333,332 / (10^12 * 1440).
    assert sorted(tuple(r) for r in days) == [(rq.day_of(DAY0), "far", 2, 0, 0, None),
                                             (rq.day_of(DAY0), "mm", 2, 1_333_333_333_332, 18_518, None)]
    frame = strategy_queries.strategy_rewards(db, "paper", "mm")
    assert frame[["samples", "estimated"]].values.tolist() == [[2, 0.018518]]
    assert rq.strategy_scoring(db, "paper", "mm")["scored"] == 4


def test_paper_pays_a_days_estimate_at_its_end_and_nothing_under_the_minimum(db):
    clock = Clock(DAY0)
    daily = RewardTracker(db, clock, sample_s=86_400)  # one sample a day: the estimate is pool x share
    daily.sample("paper", lambda token: BOOK, lambda cid: YES)
    assert asyncio.run(daily.record_payouts("paper", None)) == []  # the day has not ended
    clock.at += 86_400_000
    assert asyncio.run(daily.record_payouts("paper", None)) == [rq.day_of(DAY0)]
    assert rq.day_estimates(db, "paper", rq.day_of(DAY0)) == {(CID, "far"): 0, (CID, "mm"): 13_333_333}
    with db.read() as conn:
        paid = conn.execute(text("SELECT strategy, paid FROM reward_days ORDER BY strategy")).all()
        [credit] = reward_credits(conn, clock.at)
    assert [tuple(r) for r in paid] == [("far", 0), ("mm", 13_333_333)]
    assert (credit.kind, credit.amount, credit.at_ms) == ("reward", 13_333_333, rq.day_end_ms(rq.day_of(DAY0)))
    # A small day: one sample of 1440 estimates 0.009259 pUSD, under the 1 pUSD minimum: not paid.
    RewardTracker(db, clock).sample("paper", lambda token: BOOK, lambda cid: YES)
    clock.at += 86_400_000
    asyncio.run(daily.record_payouts("paper", None))
    with db.read() as conn:
        assert [c.amount for c in reward_credits(conn, clock.at)] == [13_333_333]


def test_a_paid_amount_is_split_by_estimates_and_adds_up():
    assert split_paid(1_000_001, {"a": 2, "b": 1}) == {"a": 666_668, "b": 333_333}
    assert split_paid(10, {"a": 0, "b": 0}) == {"a": 5, "b": 5}
    assert split_paid(7, {}) == {"desk": 7} and split_paid(0, {}) == {}


def test_program_rows_read_the_venues_list():
    rows = program_rows([{"condition_id": CID, "rewards_max_spread": 3.5, "rewards_min_size": 50,
                          "total_daily_rate": 12.5}, {"condition_id": "x", "rewards_max_spread": 0,
                                                      "rewards_min_size": 5, "total_daily_rate": 1},
                         "junk", {"rewards_max_spread": 3}])
    assert rows == [rq.ProgramRow(CID, 12_500_000, 35_000, 50_000_000)]
