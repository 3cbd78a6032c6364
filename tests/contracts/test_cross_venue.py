"""Cross-venue arbitrage arithmetic (issue 40 item 6): a Polymarket token and the Kalshi side that
pays when it loses, bought while both asks and both venues' taker fees stay under 1 - margin a share,
as deep as both books go and no further than each venue's capital; never an edge the fees eat."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.cross_venue import cross
from contracts.domain import MICRO, Level
from contracts.kalshi_ids import TAKER_RATE, fee_cents

C = MICRO  # one share, one contract
CENT = MICRO // 100
PLENTY = 10**15


def _cross(poly: list[Level], kalshi: list[Level], *, margin: int = CENT, poly_capital: int = PLENTY,
           kalshi_capital: int = PLENTY, ppm: int = 0):
    return cross(poly, kalshi, poly_fee_ppm=ppm, poly_fee_exponent=1, margin=margin, poly_capital=poly_capital,
                 kalshi_capital=kalshi_capital)


def test_a_cheap_pair_is_bought_as_deep_as_both_books_go() -> None:
    found = _cross([Level(40 * CENT, 100 * C)], [Level(50 * CENT, 50 * C)])
    assert found is not None and found.size == 50 * C
    assert found.poly_cost == 20 * MICRO
    assert found.kalshi_cost == 25 * MICRO + fee_cents(TAKER_RATE, 50, 50) * CENT == 25_880_000  # $0.875 -> $0.88
    assert found.edge == 50 * C - found.poly_cost - found.kalshi_cost == 4_120_000


def test_fees_that_eat_the_spread_leave_no_arbitrage() -> None:
    asks = ([Level(48 * CENT, 100 * C)], [Level(50 * CENT, 100 * C)])  # 0.98 before fees
    assert _cross(*asks) is None  # Kalshi's $1.75 on 100 contracts: 0.9975 a share, above 1 - 0.01
    free = _cross(*asks, margin=0)
    assert free is not None and free.size == 100 * C and free.edge == 100 * C - 48 * MICRO - 50 * MICRO - 175 * CENT
    assert _cross(*asks, margin=0, ppm=20_000) is None  # Polymarket's own taker fee as well: gone


def test_the_walk_stops_at_the_first_level_the_edge_does_not_cover() -> None:
    poly = [Level(40 * CENT, 10 * C), Level(45 * CENT, 10 * C), Level(60 * CENT, 100 * C)]
    kalshi = [Level(50 * CENT, 15 * C), Level(52 * CENT, 100 * C)]
    found = _cross(poly, kalshi)
    assert found is not None and found.size == 20 * C  # 10 at 0.40 + 10 at 0.45; 0.60 + 0.52 is over 1
    assert (found.worst_poly, found.worst_kalshi) == (45 * CENT, 52 * CENT)  # the last 5 at Kalshi's 0.52


def test_each_venue_spends_no_more_than_its_capital() -> None:
    found = _cross([Level(40 * CENT, 100 * C)], [Level(50 * CENT, 100 * C)], poly_capital=10 * MICRO)
    assert found is not None and found.size == 25 * C and found.poly_cost <= 10 * MICRO
    assert _cross([Level(40 * CENT, 100 * C)], [Level(50 * CENT, 100 * C)], kalshi_capital=40 * CENT) is None


def test_odd_lots_are_passed_over_and_kalshi_trades_whole_contracts() -> None:
    found = _cross([Level(40 * CENT, C // 2), Level(41 * CENT, 3 * C + C // 4)], [Level(50 * CENT, 10 * C)])
    assert found is not None and found.size == 3 * C and found.worst_poly == 41 * CENT


levels = st.lists(st.tuples(st.integers(1, 99), st.integers(0, 300)), min_size=0, max_size=6)


@settings(max_examples=300, deadline=None)
@given(poly=levels, kalshi=levels, margin=st.integers(0, 5), poly_capital=st.integers(0, 200),
       kalshi_capital=st.integers(0, 200), ppm=st.sampled_from([0, 10_000, 70_000]))
def test_never_an_edge_below_the_margin_nor_past_depth_or_capital(poly, kalshi, margin, poly_capital,
                                                                 kalshi_capital, ppm) -> None:
    book_p = [Level(p * CENT, q * C // 4) for p, q in sorted(poly)]  # asks best (lowest) first, odd lots too
    book_k = [Level(p * CENT, q * C) for p, q in sorted(kalshi)]
    found = _cross(book_p, book_k, margin=margin * CENT, poly_capital=poly_capital * MICRO,
                   kalshi_capital=kalshi_capital * MICRO, ppm=ppm)
    if found is None:
        return
    assert found.size % C == 0 and found.size > 0
    assert found.size <= sum(lv.size for lv in book_p) and found.size <= sum(lv.size for lv in book_k)
    assert found.poly_cost <= poly_capital * MICRO and found.kalshi_cost <= kalshi_capital * MICRO
    assert found.edge >= margin * CENT * found.size // MICRO - found.size // MICRO  # per-slice flooring at most
