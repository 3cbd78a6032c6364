"""Liquidity-reward scoring (the venue's published method) and a day's payout, on a scripted book.

Terms: max spread v = 3 cents, min size 20 shares, daily pool 20 pUSD. Worked by hand:

- maker A rests a bid at 0.49 and an ask at 0.51, 100 shares each: s = 1 cent, S = (2/3)^2 = 4/9,
  Q_one = Q_two = 400/9, Q_min = 400/9;
- maker B rests a bid at 0.48 for 200 (one-sided): s = 2 cents, S = 1/9, Q_one = 200/9, Q_two = 0,
  and with the midpoint inside [0.10, 0.90] Q_min = (200/9) / 3 = 200/27;
- maker C's 10-share bid at 0.50 is under the min size: it neither scores nor moves the
  size-cutoff-adjusted midpoint (0.50, not the 0.505 of the raw top of book);
- maker D's ask at 0.54 is 4 cents out: beyond the max spread, it scores nothing.

Sample one: A has 6/7 of the total, B 1/7. Sample two (B gone): A has it all. The day's pool is
split by the summed shares.
"""

from __future__ import annotations

from fractions import Fraction

from contracts.reward_scoring import (
    ASK,
    BID,
    SHARE_SCALE,
    Quote,
    adjusted_midpoint,
    day_payouts,
    maker_q_min,
    order_score,
    sample_shares,
)

V, MIN = 30_000, 20_000_000  # 3 cents, 20 shares (micro-units)


def q(maker: str, side: str, price: str, shares: int) -> Quote:
    return Quote(f"{maker}-{side}-{price}", maker, side, int(round(float(price) * 1_000_000)), shares * 1_000_000)


BOOK = [q("A", BID, "0.49", 100), q("A", ASK, "0.51", 100), q("B", BID, "0.48", 200),
        q("C", BID, "0.50", 10), q("D", ASK, "0.54", 50)]


def test_the_order_score_is_quadratic_in_the_distance_and_zero_at_the_max_spread():
    assert order_score(V, 0) == 1
    assert order_score(V, 10_000) == Fraction(4, 9)
    assert order_score(V, 20_000) == Fraction(1, 9)
    assert order_score(V, 30_000) == order_score(V, 40_000) == 0


def test_the_midpoint_ignores_orders_under_the_size_cutoff():
    assert adjusted_midpoint(BOOK, MIN) == 500_000
    assert adjusted_midpoint(BOOK, 1) == 505_000  # with no cutoff C's dust sets the bid
    assert adjusted_midpoint([q("A", BID, "0.49", 100)], MIN) is None  # one side only: no midpoint


def test_q_min_per_maker_on_the_scripted_book():
    scores = maker_q_min(BOOK, V, MIN)
    assert scores == {"A": Fraction(400, 9) * 1_000_000, "B": Fraction(200, 27) * 1_000_000}


def test_sample_shares_are_exact_parts_of_the_total():
    assert sample_shares(BOOK, V, MIN) == {"A": 857_142_857_142, "B": 142_857_142_857}
    without_b = [x for x in BOOK if x.maker != "B"]
    assert sample_shares(without_b, V, MIN) == {"A": SHARE_SCALE}


def test_one_sided_quotes_score_nothing_near_the_extremes():
    low = [q("A", BID, "0.04", 100), q("A", ASK, "0.06", 100), q("B", BID, "0.03", 100)]
    assert adjusted_midpoint(low, MIN) == 50_000
    assert maker_q_min(low, V, MIN) == {"A": Fraction(4, 9) * 100_000_000}  # B is one-sided: min(Q1, Q2) = 0


def test_a_days_payout_splits_the_pool_by_summed_shares():
    day: dict[str, int] = {}
    for sample in (BOOK, [x for x in BOOK if x.maker != "B"]):
        for maker, share in sample_shares(sample, V, MIN).items():
            day[maker] = day.get(maker, 0) + share
    assert day == {"A": 1_857_142_857_142, "B": 142_857_142_857}
    assert day_payouts(20_000_000, day) == {"A": 18_571_428, "B": 1_428_571}  # 18.571428 + 1.428571 pUSD
    assert day_payouts(20_000_000, {}) == {} and day_payouts(0, day) == {}
