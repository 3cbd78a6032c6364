"""Strategies page, liquidity rewards and rebates of one strategy, in a section of their own: the
estimated and paid rewards per day and market, how its orders score (the desk's and the venue's
answer), its share of the desk's maker rebates, beside its fees, its spread capture and its 60 s
markout."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database, now_ms
from tests.dashboard.seed import BTC, ELECTION

M = 1_000_000


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_rewards_section_shows_estimated_and_paid_rewards_scoring_and_rebates(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    now = now_ms()
    with db.write() as conn:
        for day, estimated, paid in (("2026-11-21", 4_250_000, 4_000_000), ("2026-11-22", 1_500_000, None)):
            conn.execute(text("""INSERT INTO reward_days (mode, day, condition_id, strategy, samples, share, estimated,
                                     paid, updated_at) VALUES ('paper', :d, :c, 'mm-btc', 1440, 0, :e, :p, :n)"""),
                         {"d": day, "c": BTC, "e": estimated, "p": paid, "n": now})
        for order_id, hits, scoring, venue in ((1, 30, 1, 1), (2, 10, 0, 0)):
            conn.execute(text("""INSERT INTO reward_scores (mode, order_id, strategy, condition_id, samples,
                                     scoring_samples, scoring, venue_scoring, checked_at)
                                 VALUES ('paper', :o, 'mm-btc', :c, 40, :h, :s, :v, :n)"""),
                         {"o": order_id, "c": BTC, "h": hits, "s": scoring, "v": venue, "n": now})
        conn.execute(text("""INSERT INTO cash_ledger (mode, at, kind, amount, ref, note)
                             VALUES ('paper', :n, 'rebate', 3000000, '0xrebate', 'maker rebate')"""), {"n": now})
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert not at.exception
    assert any("liquidity rewards, rebates and fees" in h.value for h in at.subheader)
    assert _metric(at, "Est. rewards (pUSD)") == "5.75"
    assert _metric(at, "Rewards paid (pUSD)") == "4.00"
    assert _metric(at, "Orders scoring") == "1 of 2"
    # The rebate is the desk's; the seeded desk's maker fills are all mm-btc's, so all of it is its share.
    assert _metric(at, "Maker rebates (pUSD)") == "3.00"
    table = next(d.value for d in at.dataframe if "estimated" in d.value.columns)
    assert table[["day", "estimated"]].values.tolist() == [["2026-11-22", 1.5], ["2026-11-21", 4.25]]
    assert table["paid"].isna().tolist() == [True, False]


def test_the_rewards_section_shows_spread_capture_beside_the_60s_markout(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    # The seeded mm-btc fills: two buys of 10 at 0.47 when the recorded mid was 0.481 (+0.11 each).
    # A third fill, in another market with no recorded mid, is not measured, not counted as zero.
    with db.write() as conn:
        conn.execute(text("""INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome,
                                 side, price, size, fee, liquidity, status, status_rank, matched_at, updated_at)
                             VALUES ('t-no-mid', 3, 'paper', 'mm-btc', :c, 'tok-el-yes', 'YES', 'BUY', 500000,
                                     10000000, 0, 'MAKER', 'CONFIRMED', 30, :n, :n)"""), {"c": ELECTION, "n": seeded})
        ids = conn.execute(text("SELECT id FROM fills WHERE strategy = 'mm-btc' AND condition_id = :c"),
                           {"c": BTC}).scalars().all()
        for fill_id in ids:  # the mid fell 0.005 in the 60 s after each
            conn.execute(text("""INSERT INTO fill_markouts (fill_id, horizon, mode, strategy, condition_id, notional,
                                     mid, markout, computed_at)
                                 VALUES (:f, '60s', 'paper', 'mm-btc', :c, 4700000, 476000, -50000, :n)"""),
                         {"f": fill_id, "c": BTC, "n": seeded})
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert not at.exception
    assert len(ids) == 2
    assert _metric(at, "Spread capture (pUSD)") == "+0.22"
    assert _metric(at, "Fills measured") == "2 of 3"
    assert _metric(at, "60 s markout (pUSD)") == "-0.10"
    assert _metric(at, "Fees paid (pUSD)") == "0.02"  # the seeded fills' fees, beside them
    per_market = next(d.value for d in at.dataframe if "unmeasured" in d.value.columns)
    assert per_market[["measured", "unmeasured", "usdc"]].values.tolist()[0] == [2, 0, 0.22]
    assert per_market["unmeasured"].tolist()[1] == 1 and per_market["usdc"].isna().tolist() == [False, True]


def test_a_strategy_without_fills_shows_no_spread_capture(seeded: int, page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("vb-election").run()
    assert not at.exception
    assert _metric(at, "Spread capture (pUSD)") == "—"
    assert _metric(at, "Fills measured") == "0 of 0"
    assert _metric(at, "60 s markout (pUSD)") == "—"
