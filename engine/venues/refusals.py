"""What a venue's refusal of an order means: the market's answer, the venue's maintenance, or
a fault worth counting.

Only faults count toward the error-rate breaker. A post-only order meeting a moved book, a
FOK finding too little, a size under the market's minimum or a short balance are answers
about this order (decisions with reasons); the weekly restart's post-only phase is
maintenance, and so is a venue's pause named in one order's answer (an item of a batch Kalshi
refused because trading is paused): neither counts as a refusal of the account. Anything not
recognised here (a bad signature, a refused maker, an unknown message) is a fault: repeated, it
halts trading so the operator looks.
"""

from __future__ import annotations

from enum import StrEnum

from contracts.geoblock import REGION_WORDS


class Refusal(StrEnum):
    BUSINESS = "business"  # the market's answer to this order: a decision, not an error
    REGION = "region"  # this server's region refused (a geoblock): the risk monitor's, not a fault
    POST_ONLY_MODE = "post_only_mode"  # after a matching-engine restart only post-only orders are taken
    PAUSED = "paused"  # the venue's trading is paused: maintenance, held back until it resumes
    FAULT = "fault"  # counts toward the error-rate breaker


# Lower-case fragments of the venue's own messages (see docs/going-live.md: Known failure messages).
POST_ONLY_MODE_MARKERS = ("post-only mode", "post only mode")
# Kalshi's pause codes (engine/venues/kalshi/wire.py PAUSED), as an item of a batch carries them.
PAUSED_MARKERS = ("trading_is_paused", "exchange_is_paused", "trading_paused", "exchange_paused")
BUSINESS_MARKERS = (
    "order crosses book",  # invalid post-only order: order crosses book
    "only gtc and gtd order types are allowed",
    "fok orders are fully filled or killed",
    "no orders found to match with fak order",
    "lower than the minimum",
    "min size",
    "minimum tick size",
    "not enough balance",
    "allowance",
    "invalid expiration",
    "not yet ready to process new orders",
    "not accepting orders",
    "market is closed",
    "duplicated",
    "dropped by cancel-all",
    "too small to express",
    "tick grid",
    # Kalshi's codes and details (its Order Errors page; engine/venues/kalshi/wire.py writes them in)
    "post only cross",
    "market_inactive",
    "available_balance_too_low",
    "insufficient_balance",
    "fill or kill",
    "order_already_exists",
)


# The book's answer to this one order: a take that found too little to match, a post-only order meeting the
# touch. Its market moved, nothing more: it says nothing of the account, so it never counts toward the
# venue-refusing breaker (engine/risk/breakers.py RefusalCounter), however many markets give it at once.
BOOK_ANSWER_MARKERS = (
    "order crosses book",
    "fok orders are fully filled or killed",
    "no orders found to match with fak order",
    "post only cross",
    "fill or kill",
)


def about_the_book(message: str) -> bool:
    """Whether a refusal is the book's answer to this order (see BOOK_ANSWER_MARKERS)."""
    text = message.lower()
    return any(marker in text for marker in BOOK_ANSWER_MARKERS)


def classify(message: str) -> Refusal:
    text = message.lower()
    if "region blocked" in text or any(word in text for word in REGION_WORDS):
        return Refusal.REGION
    if any(marker in text for marker in POST_ONLY_MODE_MARKERS):
        return Refusal.POST_ONLY_MODE
    if any(marker in text for marker in PAUSED_MARKERS):
        return Refusal.PAUSED
    if any(marker in text for marker in BUSINESS_MARKERS):
        return Refusal.BUSINESS
    return Refusal.FAULT
