"""Cross-venue arbitrage arithmetic (issue 40 item 6; issue 55 item 3): a Polymarket token and the
Kalshi side that pays when it loses, bought while both asks and both venues' taker fees stay under
1 - margin a share, as deep as both books go and no further than each venue's capital, 0.01 contract
at a time; Kalshi's fee as its series charges it, rounded as Kalshi rounds; never an edge the fees eat."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.cross_venue import cross
from contracts.domain import MICRO, Level
from contracts.venues.kalshi.fees import KalshiFees, trade_fee

C = MICRO  # one share, one contract
CENT = MICRO // 100
PLENTY = 10**15
QUADRATIC = KalshiFees("quadratic", MICRO)


def _cross(poly: list[Level], kalshi: list[Level], *, margin: int = CENT, poly_capital: int = PLENTY,
           kalshi_capital: int = PLENTY, ppm: int = 0, fees: KalshiFees = QUADRATIC):
    return cross(poly, kalshi, poly_fee_ppm=ppm, poly_fee_exponent=1, margin=margin, poly_capital=poly_capital,
                 kalshi_capital=kalshi_capital, kalshi_fees=fees)


def test_a_cheap_pair_is_bought_as_deep_as_both_books_go() -> None:
    found = _cross([Level(40 * CENT, 100 * C)], [Level(50 * CENT, 50 * C)])
    assert found is not None and found.size == 50 * C
    assert found.poly_cost == 20 * MICRO
    # $0.875 of fee, to the $0.0001 (no longer rounded up to the cent), and at most a grain of rounding
    assert found.kalshi_cost == 25 * MICRO + 875_000 + 99
    assert found.edge == 50 * C - found.poly_cost - found.kalshi_cost


def test_fees_that_eat_the_spread_leave_no_arbitrage() -> None:
    asks = ([Level(48 * CENT, 100 * C)], [Level(50 * CENT, 100 * C)])  # 0.98 before fees
    assert _cross(*asks) is None  # Kalshi's $1.75 on 100 contracts: 0.9975 a share, above 1 - 0.01
    free = _cross(*asks, margin=0)
    assert free is not None and free.size == 100 * C
    assert free.edge == 100 * C - 48 * MICRO - 50 * MICRO - 175 * CENT - 99
    assert _cross(*asks, margin=0, ppm=20_000) is None  # Polymarket's own taker fee as well: gone
    assert _cross(*asks, margin=0, fees=KalshiFees("quadratic", 2 * MICRO)) is None  # a series at twice the rate


def test_the_walk_stops_at_the_first_level_the_edge_does_not_cover() -> None:
    poly = [Level(40 * CENT, 10 * C), Level(45 * CENT, 10 * C), Level(60 * CENT, 100 * C)]
    kalshi = [Level(50 * CENT, 15 * C), Level(52 * CENT, 100 * C)]
    found = _cross(poly, kalshi)
    assert found is not None and found.size == 20 * C  # 10 at 0.40 + 10 at 0.45; 0.60 + 0.52 is over 1
    assert (found.worst_poly, found.worst_kalshi) == (45 * CENT, 52 * CENT)  # the last 5 at Kalshi's 0.52


def test_each_venue_spends_no_more_than_its_capital() -> None:
    found = _cross([Level(40 * CENT, 100 * C)], [Level(50 * CENT, 100 * C)], poly_capital=10 * MICRO)
    assert found is not None and found.size == 25 * C and found.poly_cost <= 10 * MICRO
    assert _cross([Level(40 * CENT, 100 * C)], [Level(50 * CENT, 100 * C)], kalshi_capital=CENT // 2) is None


def test_fractions_of_a_contract_are_taken_to_the_hundredth() -> None:
    found = _cross([Level(40 * CENT, C // 2), Level(41 * CENT, 3 * C + C // 4 + 3)], [Level(50 * CENT, 10 * C)])
    assert found is not None and found.size == 3 * C + 3 * C // 4 and found.worst_poly == 41 * CENT


def test_sub_penny_kalshi_levels_are_priced_exactly() -> None:
    found = _cross([Level(45 * CENT, 10 * C)], [Level(485_500, 10 * C)], margin=0)
    assert found is not None and found.worst_kalshi == 485_500
    assert found.kalshi_cost == 4_855_000 + trade_fee(QUADRATIC, 485_500, 10 * C, taker=True) + 99


levels = st.lists(st.tuples(st.integers(1, 999), st.integers(0, 300)), min_size=0, max_size=6)


@settings(max_examples=300, deadline=None)
@given(poly=levels, kalshi=levels, margin=st.integers(0, 5), poly_capital=st.integers(0, 200),
       kalshi_capital=st.integers(0, 200), ppm=st.sampled_from([0, 10_000, 70_000]))
def test_never_an_edge_below_the_margin_nor_past_depth_or_capital(poly, kalshi, margin, poly_capital,
                                                                 kalshi_capital, ppm) -> None:
    book_p = [Level(p * MICRO // 1000, q * C // 4) for p, q in sorted(poly)]  # asks best (lowest) first
    book_k = [Level(p * MICRO // 1000, q * C // 100) for p, q in sorted(kalshi)]  # sub-penny, fractions
    found = _cross(book_p, book_k, margin=margin * CENT, poly_capital=poly_capital * MICRO,
                   kalshi_capital=kalshi_capital * MICRO, ppm=ppm)
    if found is None:
        return
    assert found.size % (C // 100) == 0 and found.size > 0
    assert found.size <= sum(lv.size for lv in book_p) and found.size <= sum(lv.size for lv in book_k)
    assert found.poly_cost <= poly_capital * MICRO and found.kalshi_cost <= kalshi_capital * MICRO
    assert found.edge >= margin * CENT * found.size // MICRO - found.size // MICRO  # per-slice flooring at most
