"""The ensemble: the sources' fair values weighted by their calibration (skill over always saying 0.5),
each only above the minimum confidence, traded as value betting trades one."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import MarketView, Quote, Side, SourcedFair, Tif
from engine.strategies.ensemble import Ensemble
from tests.strategies.builders import book, px, sh, snap, state, view

BASE = {"edge": 0.03, "kelly_fraction": 0.25, "max_position": 100, "max_order": 10}
OPERATOR = SourcedFair("operator", px("0.70"), px(1), None)  # never judged: counts as Brier 0.2, weight 0.05
MODEL = SourcedFair("model", px("0.66"), px("0.8"), px("0.1"))  # Brier 0.1: weight 0.15


def market(*sources: SourcedFair) -> MarketView:
    return replace(view(yes=book(bids=[("0.58", 100)], asks=[("0.60", 100)])), fair_sources=sources)


def test_the_sources_are_weighted_by_their_calibration() -> None:
    [intent] = Ensemble("e", BASE).decide(snap(market(OPERATOR, MODEL)), state(cash=1000), 0)
    assert intent.probability == px("0.67")  # (0.05 * 0.70 + 0.15 * 0.66) / 0.20
    assert intent.confidence == px("0.85")  # (0.05 * 1 + 0.15 * 0.8) / 0.20
    assert intent.quotes == (Quote(Side.BUY, px("0.60"), sh(10), Tif.FAK),) and "under fair 0.67" in intent.reason


def test_unsure_and_uncalibrated_sources_are_left_out_until_too_few_remain() -> None:
    unsure = SourcedFair("rumour", px("0.95"), px("0.5"), px("0.05"))  # below the 0.6 floor
    coin = SourcedFair("coin", px("0.95"), px("0.9"), px("0.3"))  # worse than always saying 0.5: no weight
    [kept] = Ensemble("e", BASE).decide(snap(market(OPERATOR, MODEL, unsure, coin)), state(cash=1000), 0)
    assert kept.probability == px("0.67")
    [alone] = Ensemble("e", BASE).decide(snap(market(MODEL, unsure, coin)), state(cash=1000), 0)
    assert alone.quotes == () and alone.probability is None and "1 of 3 source(s)" in alone.reason
    [one] = Ensemble("e", {**BASE, "min_sources": 1}).decide(snap(market(MODEL)), state(cash=1000), 0)
    assert one.probability == px("0.66")
    [unjudged] = Ensemble("e", {**BASE, "unjudged_brier": 0.25}).decide(snap(market(OPERATOR, MODEL)),
                                                                          state(cash=1000), 0)
    assert unjudged.quotes == ()  # the operator's unjudged value weighs nothing then: one source left
