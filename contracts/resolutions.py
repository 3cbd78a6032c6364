"""How a market ended, as a recording keeps it for a backtest (`market_resolutions`): its outcome, when the
venue ended it, and where the desk learnt it.

Four outcomes, each read per venue as the venue pays it (engine/backtest/resolutions.py replays them):
- `yes`, `no`: one outcome took all (a share of it paid 1, the other 0);
- `value`: a YES share paid `yes_pays` and a NO the rest of the dollar: a Polymarket market resolved
  50/50 (a canceled game), or a Kalshi market settled at a value; `yes_pays` None while not known;
- `void`: the venue voided it and paid every position back at its cost (Kalshi's void; Polymarket
  voids nothing: its canceled market pays 0.5/0.5, a `value`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.domain import ONE, BadNumber, Outcome, fmt, to_micros
from contracts.payouts import Payouts

OUTCOMES = ("yes", "no", "value", "void")
SOURCES = ("feed", "ledger", "gamma", "kalshi", "trader")
SAID = {"feed": "heard on the venue's feed as it happened", "ledger": "when the desk's ledger settled it",
        "gamma": "Gamma's record of the market", "kalshi": "Kalshi's record of the market",
        "trader": "given by the trader"}


class ResolutionError(ValueError):
    """An outcome or a time the desk cannot read as a market's end; the message says what to give."""


@dataclass(frozen=True)
class Resolution:
    condition_id: str
    at: int | None  # when the venue ended the market (ms UTC); None: not recorded
    outcome: str  # one of OUTCOMES
    yes_pays: int | None = None  # `value`: what a YES share paid (micro); None: not known
    source: str = "trader"

    def payouts(self) -> Payouts | None:
        """What a share of each outcome paid (None: a void, or a value not known)."""
        if self.outcome == "yes":
            return Payouts.won_by(Outcome.YES)
        if self.outcome == "no":
            return Payouts.won_by(Outcome.NO)
        if self.outcome == "value" and self.yes_pays is not None:
            return Payouts(self.yes_pays, ONE - self.yes_pays)
        return None

    @property
    def label(self) -> str:
        """How a trader reads it: 'YES', 'NO', 'void', 'a YES paid 0.5'."""
        if self.outcome in ("yes", "no"):
            return self.outcome.upper()
        if self.outcome == "void":
            return "void (paid back at cost)"
        return "a value not yet known" if self.yes_pays is None else f"a YES paid {fmt(self.yes_pays)}"

    def as_json(self) -> dict[str, object]:
        return {"market": self.condition_id, "at": self.at, "outcome": self.outcome, "yes_pays": self.yes_pays,
                "source": self.source}


def parse_outcome(raw: str) -> tuple[str, int | None]:
    """A trader's outcome: yes, no, void, or what a YES share paid (a number from 0 to 1: 0.5 for a
    50/50); (outcome, yes_pays)."""
    word = raw.strip().lower()
    if word in ("yes", "no", "void"):
        return word, None
    try:
        value = to_micros(word, exact=True)
    except BadNumber:
        raise ResolutionError(f"{raw!r:.40} is not an outcome: give yes, no, void, or what a YES share paid "
                              "(0.5 for a 50/50)") from None
    if not 0 <= value <= ONE:
        raise ResolutionError(f"{raw!r:.40}: what a YES share paid is between 0 and 1")
    if value in (0, ONE):  # one outcome took all
        return ("yes" if value == ONE else "no"), None
    return "value", value


def utc(at: int | None) -> str:
    return "an unrecorded time" if at is None else datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%d %H:%M")
