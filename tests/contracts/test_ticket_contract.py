"""The manual ticket's contract, pure: garbage numbers are refused with the field named (never an
overflow), a GTD expiry is bounded (the venue's 180 s minimum lead, one year at most, a hint for
milliseconds), a price off the grid is refused rather than rounded, a price through the book past
the max slippage is refused whatever the time in force, and the preview's fee is what the venue
charges: each level taken at its own price."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.domain import Book, Level, MarketInfo
from contracts.expiry import GTD_MAX_LEAD_S, GTD_MIN_LEAD_S, expiry_problem, venue_expiry_problem
from contracts.ticket import TicketError, parse_ticket, preview
from contracts.venue_rules import taker_fee

NOW = 1_790_000_000
M = 1_000_000


def _ticket(**changes: Any) -> dict[str, Any]:
    return {"condition_id": "c1", "outcome": "YES", "side": "BUY", "size": "20", "price": "0.5", **changes}


def _market() -> MarketInfo:
    return MarketInfo("c1", "Q?", "Y1", "N1", tick=10_000, min_size=5 * M, fee_rate_ppm=50_000, fee_exponent=1)


def _book() -> Book:
    # The shape the issue measured live: mid 0.50, asks stepping away from it.
    asks = tuple(Level(p * 10_000, 20 * M) for p in (51, 70, 85, 95, 99))
    return Book("Y1", (Level(490_000, 100 * M),), asks, 0)


@pytest.mark.parametrize("size", ["1e999999", "1E+30", 10**30, "-1e999999", "nan", "Infinity", "1e-999999",
                                  float("inf"), "12.345", "abc"])
def test_a_garbage_size_names_the_field(size: Any) -> None:
    with pytest.raises(TicketError) as refused:
        parse_ticket(_ticket(size=size), now_s=NOW)
    assert refused.value.field == "size"


@given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                 st.decimals(allow_nan=True, allow_infinity=True).map(str)))
def test_any_size_is_parsed_or_refused_by_name(size: Any) -> None:
    try:
        ticket = parse_ticket(_ticket(size=size), now_s=NOW)
    except TicketError as exc:
        assert exc.field == "size"
    else:
        assert ticket.size is not None and 0 < ticket.size <= 10**15 and ticket.size % 10_000 == 0


@pytest.mark.parametrize(("expires", "says"), [
    (NOW + 150, "at least 180 s ahead"),
    (NOW - 10, "in the past"),
    (2**63, "at most 365 days ahead"),
    (10**40, "at most 365 days ahead"),
    ((NOW + 3_600) * 1000, f"looks like unix milliseconds: give unix seconds ({NOW + 3_600})"),
    (NOW + GTD_MAX_LEAD_S + 1, "at most 365 days ahead"),
    ("soon", "whole number of unix seconds"),
])
def test_a_gtd_expiry_out_of_bounds_is_refused_with_the_reason(expires: Any, says: str) -> None:
    with pytest.raises(TicketError) as refused:
        parse_ticket(_ticket(tif="GTD", expires_at=expires), now_s=NOW)
    assert refused.value.field == "expires_at" and says in str(refused.value)


def test_the_expiry_bounds_are_inclusive_and_the_venue_rule_is_the_minimum_only() -> None:
    for ok in (NOW + GTD_MIN_LEAD_S, NOW + GTD_MAX_LEAD_S):
        assert parse_ticket(_ticket(tif="GTD", expires_at=ok), now_s=NOW).expires_at_s == ok
        assert expiry_problem(ok, NOW) is None
    assert venue_expiry_problem(NOW + GTD_MIN_LEAD_S - 1, NOW) == "invalid expiration"
    assert venue_expiry_problem(2**63, NOW) is None  # the venue itself sets no maximum: we do
    with pytest.raises(TicketError, match="only a GTD order takes an expiry"):
        parse_ticket(_ticket(expires_at=NOW + 600), now_s=NOW)


def test_a_price_off_the_grid_is_refused_not_rounded() -> None:
    ticket = parse_ticket(_ticket(price="0.995"), now_s=NOW)
    with pytest.raises(TicketError, match=r"0.995 is not on this market's 0.01 tick grid: use 0.99$"):
        preview(ticket, _market(), _book(), 0)


def test_a_gtc_through_the_book_is_held_to_the_max_slippage_like_a_fak() -> None:
    for tif in ("GTC", "GTD", "FAK", "FOK"):
        extra = {"expires_at": NOW + 3_600} if tif == "GTD" else {}
        ticket = parse_ticket(_ticket(price="0.99", tif=tif, **extra), now_s=NOW)
        with pytest.raises(TicketError, match="past the max slippage of 0.05"):
            preview(ticket, _market(), _book(), 0, max_slippage=50_000)
    sell = parse_ticket(_ticket(side="SELL", price="0.01"), now_s=NOW)
    with pytest.raises(TicketError, match="past the max slippage"):
        preview(sell, _market(), _book(), 100 * M, max_slippage=50_000)
    resting = parse_ticket(_ticket(price="0.48"), now_s=NOW)  # below the ask: rests, no slippage to cap
    assert not preview(resting, _market(), _book(), 0, max_slippage=0).crosses


def test_the_preview_fee_is_each_level_at_its_own_price() -> None:
    ticket = parse_ticket(_ticket(size="100", price="0.99"), now_s=NOW)
    shown = preview(ticket, _market(), _book(), 0)  # no cap given: what it would pay
    levels = [(p * 10_000, 20 * M) for p in (51, 70, 85, 95, 99)]
    assert shown.fee == sum(taker_fee(price, size, 50_000, 1) for price, size in levels)
    assert shown.fee > 10 * taker_fee(990_000, 100 * M, 50_000, 1)  # the limit's own fee was 0.05 pUSD
    # The worst case (no book) is at the price within the limit where the fee is highest, 0.5.
    assert shown.max_fee == taker_fee(500_000, 100 * M, 50_000, 1)
