"""Markouts computed exactly on a scripted fill path (engine/analytics/markouts.py)."""

from __future__ import annotations

from contracts.domain import ONE, Side
from engine.analytics.markouts import (
    FillPoint,
    horizon_markouts,
    markout,
    mid_at,
    notional,
    resolution_value,
    summarize,
)

SH = 1_000_000  # one share in micro-shares
T0 = 1_800_000_000_000

# The mid, stepping: 0.50 until the fill, 0.52 at +0.5 s, 0.47 at +5 s, 0.40 at +30 s.
PATH = [(T0 - 10_000, 500_000), (T0 + 500, 520_000), (T0 + 5_000, 470_000), (T0 + 30_000, 400_000)]


def on_path(fill: FillPoint, known_until: int, done: tuple[str, ...] = ()) -> dict[str, int | None]:
    """horizon -> markout on PATH (the mids are checked against the path too)."""
    found = horizon_markouts(fill, lambda t: mid_at(PATH, t), known_until, done)
    for name, (mid, _) in found.items():
        after = {"1s": 1_000, "10s": 10_000, "60s": 60_000}[name]
        assert mid == mid_at(PATH, fill.at + after)
    return {name: value for name, (_, value) in found.items()}


def test_a_buy_earns_when_the_mid_rises_and_pays_when_it_falls() -> None:
    buy = FillPoint(Side.BUY, 490_000, 100 * SH, T0)  # bought 100 at 0.49
    marks = on_path(buy, known_until=T0 + 3_600_000)
    # +1 s: mid 0.52 -> (0.52 - 0.49) x 100 = 3 pUSD; +10 s: 0.47 -> -2; +60 s: 0.40 -> -9.
    assert marks == {"1s": 3_000_000, "10s": -2_000_000, "60s": -9_000_000}


def test_a_sell_is_signed_the_other_way() -> None:
    sell = FillPoint(Side.SELL, 510_000, 40 * SH, T0)  # sold 40 at 0.51
    marks = on_path(sell, known_until=T0 + 3_600_000)
    # +1 s: (0.51 - 0.52) x 40 = -0.40; +10 s: (0.51 - 0.47) x 40 = 1.60; +60 s: 0.11 x 40 = 4.40.
    assert marks == {"1s": -400_000, "10s": 1_600_000, "60s": 4_400_000}


def test_a_horizon_not_yet_reached_is_left_out_and_one_without_a_mid_is_none() -> None:
    buy = FillPoint(Side.BUY, 490_000, 10 * SH, T0)
    assert on_path(buy, known_until=T0 + 10_000) == {"1s": 300_000, "10s": -200_000}
    assert on_path(buy, known_until=T0 + 3_600_000, done=("1s", "10s")) == {"60s": -900_000}  # written before
    early = FillPoint(Side.BUY, 490_000, 10 * SH, T0 - 20_000)  # before the path's first mid
    assert horizon_markouts(early, lambda t: mid_at(PATH, t), T0 + 3_600_000)["1s"] == (None, None)


def test_the_mid_at_a_time_is_the_last_one_at_or_before_it() -> None:
    assert mid_at(PATH, T0 + 500) == 520_000
    assert mid_at(PATH, T0 + 499) == 500_000
    assert mid_at(PATH, T0 - 10_001) is None


def test_at_resolution_the_later_mid_is_what_the_token_pays() -> None:
    buy = FillPoint(Side.BUY, 300_000, 10 * SH, T0)
    assert markout(buy, resolution_value(ONE)) == 7_000_000
    assert markout(buy, resolution_value(0)) == -3_000_000
    sell = FillPoint(Side.SELL, 300_000, 10 * SH, T0)
    assert markout(sell, resolution_value(0)) == 3_000_000


def test_fractional_micro_usdc_round_toward_zero_both_ways() -> None:
    odd = FillPoint(Side.BUY, 500_000, 3, T0)  # 3 micro-shares
    assert markout(odd, 500_001) == 0 and markout(odd, 499_999) == 0
    assert markout(odd, 900_000) == 1 and markout(odd, 100_000) == -1


def test_a_summary_sums_usdc_and_weighs_bps_by_notional() -> None:
    buy = FillPoint(Side.BUY, 490_000, 100 * SH, T0)  # notional 49 pUSD
    sell = FillPoint(Side.SELL, 510_000, 40 * SH, T0)  # notional 20.4 pUSD
    assert notional(buy) == 49_000_000
    later = FillPoint(Side.BUY, 500_000, 10 * SH, T0 + 3_599_000)  # 60 s not reached yet
    summary = summarize([(f, on_path(f, known_until=T0 + 3_600_000)) for f in (buy, sell, later)])
    assert summary.fills == 3
    assert summary.totals["1s"] == 3_000_000 - 400_000 - 1_000_000 and summary.usdc("1s") == 1.6
    assert summary.counted["60s"] == 2
    assert summary.in_bps("60s") == (-9_000_000 + 4_400_000) * 10_000 / 69_400_000
    assert summary.usdc("resolution") is None and summary.in_bps("resolution") is None
