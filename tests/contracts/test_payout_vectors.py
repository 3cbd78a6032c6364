"""The payout vector a resolved market settles at (contracts/payouts.py), without processes: what
each share pays, which vectors are refused, and how a stored `markets` row is read. The process
tier (tests/trading/test_payouts.py) settles 50/50 markets end to end; these hold the arithmetic
and the refusals at the speed the mutation run needs."""

from __future__ import annotations

import pytest

from contracts.domain import Outcome
from contracts.payouts import PayoutError, Payouts, stored, stored_problem

HALF = 500_000


@pytest.mark.parametrize("yes, no", [(1_000_000, 0), (0, 1_000_000), (HALF, HALF), (1, 999_999)])
def test_two_non_negative_payouts_summing_to_one_are_a_vector(yes: int, no: int) -> None:
    payouts = Payouts(yes, no)
    assert (payouts.of(Outcome.YES), payouts.of(Outcome.NO)) == (yes, no)


@pytest.mark.parametrize("yes, no", [(1_000_000, 1), (HALF, HALF - 1), (-1, 1_000_001), (1_000_001, -1),
                                     (0, 0)])
def test_a_vector_not_summing_to_one_or_with_a_negative_payout_is_refused(yes: int, no: int) -> None:
    with pytest.raises(PayoutError, match="not two non-negative shares of 1"):
        Payouts(yes, no)


def test_the_winner_takes_one_and_the_loser_nothing() -> None:
    assert Payouts.won_by(Outcome.YES) == Payouts(1_000_000, 0)
    assert Payouts.won_by(Outcome.NO) == Payouts(0, 1_000_000)
    assert Payouts.won_by(Outcome.YES).winner is Outcome.YES
    assert Payouts.won_by(Outcome.NO).winner is Outcome.NO
    assert Payouts(HALF, HALF).winner is None
    assert Payouts(999_999, 1).winner is None


def test_a_trader_reads_the_winner_or_the_split_yes_first() -> None:
    assert Payouts.won_by(Outcome.YES).label == "YES"
    assert Payouts.won_by(Outcome.NO).label == "NO"
    assert Payouts(HALF, HALF).label == "0.5/0.5"
    assert Payouts(250_000, 750_000).label == "0.25/0.75"
    assert Payouts(250_000, 750_000).per_share == "a YES share pays 0.25, a NO 0.75"


@pytest.mark.parametrize("values, expected", [(["0.5", "0.5"], Payouts(HALF, HALF)), ([1, 0], Payouts(1_000_000, 0)),
                                              (["0", "1"], Payouts(0, 1_000_000)),
                                              ([0.25, 0.75], Payouts(250_000, 750_000))])
def test_the_venues_payouts_are_read_yes_first(values: list[object], expected: Payouts) -> None:
    assert Payouts.of_values(values) == expected


@pytest.mark.parametrize("values, why", [(["1"], "two payouts, got 1"), (["0.5", "0.5", "0"], "two payouts, got 3"),
                                         (["half", "half"], "not numbers"),
                                         (["0.3333333", "0.6666667"], "not numbers"),
                                         (["0.6", "0.6"], "not two non-negative shares of 1")])
def test_the_venues_payouts_that_are_not_a_binary_vector_are_refused(values: list[object], why: str) -> None:
    with pytest.raises(PayoutError, match=why):
        Payouts.of_values(values)


def test_a_stored_row_is_read_from_its_vector_before_its_older_winner() -> None:
    assert stored({"payout_yes": HALF, "payout_no": HALF, "resolved_outcome": "YES"}) == Payouts(HALF, HALF)
    assert stored({"payout_yes": None, "payout_no": None, "resolved_outcome": "NO"}) == Payouts(0, 1_000_000)
    assert stored({"resolved_outcome": "YES"}) == Payouts(1_000_000, 0)
    assert stored({"payout_yes": None, "payout_no": None, "resolved_outcome": None}) is None
    assert stored({"resolved_outcome": "VOID"}) is None


@pytest.mark.parametrize("row", [{"payout_yes": HALF, "payout_no": None}, {"payout_yes": None, "payout_no": HALF},
                                 {"payout_yes": True, "payout_no": False}, {"payout_yes": 0.5, "payout_no": 0.5},
                                 {"payout_yes": "500000", "payout_no": "500000"}])
def test_a_stored_vector_that_is_not_two_whole_amounts_is_a_problem_not_a_guess(row: dict[str, object]) -> None:
    with pytest.raises(PayoutError, match="not both whole micro-pUSD amounts"):
        stored(row)
    assert stored_problem(row) == "payout_yes and payout_no are not both whole micro-pUSD amounts"


def test_a_stored_problem_names_what_is_wrong_and_a_good_row_has_none() -> None:
    assert stored_problem({"payout_yes": 600_000, "payout_no": 600_000}) == (
        "payouts 0.6/0.6 are not two non-negative shares of 1")
    assert stored_problem({"payout_yes": HALF, "payout_no": HALF}) is None
    assert stored_problem({"resolved_outcome": None}) is None
