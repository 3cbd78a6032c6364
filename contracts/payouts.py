"""What a resolved market pays per share of each outcome: its payout vector.

A Polymarket condition reports a payout per outcome when it resolves. Most markets pay 1/0,
but a canceled sports game pays 0.5/0.5 (head-to-head draws too), and nothing in the protocol
forbids another split. The desk settles, marks, redeems and values at the vector the venue
reports, never at an assumed winner. A vector that is not two non-negative payouts summing to
1 is refused (PayoutError): the desk keeps the market unresolved and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from contracts.domain import ONE, Outcome, fmt, to_micros


class PayoutError(ValueError):
    """A payout vector the desk cannot settle at: the message says what is wrong with it."""


@dataclass(frozen=True)
class Payouts:
    yes: int  # micro-pUSD one YES share pays
    no: int  # micro-pUSD one NO share pays

    def __post_init__(self) -> None:
        if self.yes < 0 or self.no < 0 or self.yes + self.no != ONE:
            raise PayoutError(f"payouts {fmt(self.yes)}/{fmt(self.no)} are not two non-negative "
                              "shares of 1")

    @classmethod
    def won_by(cls, winner: Outcome) -> Payouts:
        return cls(ONE, 0) if winner is Outcome.YES else cls(0, ONE)

    @classmethod
    def of_values(cls, values: Sequence[object]) -> Payouts:
        """From the venue's per-outcome payouts (YES first), as decimal strings or numbers."""
        if len(values) != 2:
            raise PayoutError(f"a binary market has two payouts, got {len(values)}")
        try:
            yes, no = (to_micros(str(v), exact=True) for v in values)
        except (ValueError, ArithmeticError):
            raise PayoutError(f"payouts {list(values)!r} are not numbers") from None
        return cls(yes, no)

    def of(self, outcome: Outcome) -> int:
        return self.yes if outcome is Outcome.YES else self.no

    @property
    def winner(self) -> Outcome | None:
        """The outcome that takes all, or None for a split (e.g. 50/50)."""
        if self.yes == ONE:
            return Outcome.YES
        return Outcome.NO if self.no == ONE else None

    @property
    def label(self) -> str:
        """How a trader reads it: 'YES', 'NO', or the split ('0.5/0.5', YES first)."""
        winner = self.winner
        return winner.value if winner is not None else f"{fmt(self.yes)}/{fmt(self.no)}"

    @property
    def per_share(self) -> str:
        return f"a YES share pays {fmt(self.yes)}, a NO {fmt(self.no)}"


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def stored(row: Mapping[str, Any]) -> Payouts | None:
    """A `markets` row's payout vector (columns payout_yes, payout_no), or its older
    `resolved_outcome` (a row from a session file written before vectors); None while open.
    Raises PayoutError for a stored vector that is not one (market_rows.py checks it first)."""
    yes, no = row.get("payout_yes"), row.get("payout_no")
    if yes is not None or no is not None:
        if not (_whole(yes) and _whole(no)):
            raise PayoutError("payout_yes and payout_no are not both whole micro-pUSD amounts")
        return Payouts(yes, no)
    winner = row.get("resolved_outcome")
    return Payouts.won_by(Outcome(winner)) if winner in ("YES", "NO") else None


def stored_problem(row: Mapping[str, Any]) -> str | None:
    """Why a row's payout vector cannot be read, or None."""
    try:
        stored(row)
    except PayoutError as exc:
        return str(exc)
    return None
