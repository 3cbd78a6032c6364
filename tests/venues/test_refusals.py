"""The venue's refusals, told apart: the market's answer to one order, the weekly restart's
post-only phase, or a fault that must halt trading if it repeats (README: Known failure messages)."""

from __future__ import annotations

import pytest

from engine.venues.paper_rules import FAK_NO_MATCH, FOK_NOT_FILLED, POST_ONLY_CROSSES
from engine.venues.refusals import Refusal, classify


@pytest.mark.parametrize("message", [
    POST_ONLY_CROSSES, FOK_NOT_FILLED, FAK_NO_MATCH,
    "order 0xabc is invalid. Size (1) lower than the minimum: 5",
    "order 0xabc is invalid. Price (0.513) breaks minimum tick size rule: 0.01",
    "not enough balance / allowance: the balance is not enough -> balance: 1, sum of active orders: 0",
    "the market is not yet ready to process new orders",
    "invalid expiration",
    "order 0xabc is invalid. Duplicated.",
])
def test_the_markets_answers_are_business(message: str) -> None:
    assert classify(message) is Refusal.BUSINESS


def test_the_post_only_phase_is_maintenance() -> None:
    assert classify("the matching engine is in post-only mode: only post-only orders are accepted") \
        is Refusal.POST_ONLY_MODE


@pytest.mark.parametrize("message", [
    "invalid signature", "maker address not allowed, please use the deposit wallet flow",
    "the order signer address has to be the address of the API KEY", "Unauthorized/Invalid api key",
    "something nobody has seen before",
])
def test_everything_else_is_a_fault(message: str) -> None:
    assert classify(message) is Refusal.FAULT
