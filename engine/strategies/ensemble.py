"""An ensemble of fair values: every source's fair value for a market (MarketView.fair_sources: the
operator's and each outside source's in force, benched sources left out), weighted by how well
calibrated the source has been, traded as value betting trades one (engine/strategies/value_betting.py,
`FairValueTrader`: the edge, Kelly sizing, caps, takes or limits).

A source's Brier score b (the model-confidence breaker's, over its last resolved markets; before it is
judged, `unjudged_brier`) gives it the weight w = max(0, 0.25 - b): its skill over always saying 0.5,
whose Brier score is 0.25, so a source no better than that weighs nothing and a perfect one weighs most.
A source whose stated confidence is below `min_confidence` is left out (the operator's counts as
certain; one that states none is below any floor above 0). The fair value is sum(w v) / sum(w) over the
sources left, traded only when at least `min_sources` of them weigh something; the confidence it states
(for conflicts between strategies) is their confidences' mean under the same weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.domain import ONE, MarketView
from contracts.strategy_schemas.ensemble import ENSEMBLE
from engine.strategies.value_betting import Fair, FairValueTrader

COIN_FLIP_BRIER = ONE // 4  # the Brier score of always saying 0.5, in micros


class Ensemble(FairValueTrader):
    schema = ENSEMBLE

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.min_sources = int(self.params["min_sources"])
        self.unjudged_brier = self.micros("unjudged_brier")

    def weight(self, brier: int | None) -> int:
        """A source's weight (micros) from its Brier score."""
        return max(0, COIN_FLIP_BRIER - (self.unjudged_brier if brier is None else brier))

    def fair_of(self, view: MarketView) -> Fair:
        weighed = [(self.weight(s.brier), s) for s in view.fair_sources
                   if 0 <= s.value <= ONE and self.sure_enough(s.confidence)]
        weighed = [(w, s) for w, s in weighed if w > 0]
        if len(weighed) < self.min_sources:
            priced = len(view.fair_sources)
            return Fair(None, None, f"{len(weighed)} of {priced} source(s) sure and calibrated enough to count, "
                                    f"fewer than {self.min_sources}")
        total = sum(w for w, _ in weighed)
        value = sum(w * s.value for w, s in weighed) // total
        confidence = sum(w * (s.confidence if s.confidence is not None else 0) for w, s in weighed) // total
        return Fair(value, confidence, "")
