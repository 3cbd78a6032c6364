"""A market whose resolution is under way on the venue (Gamma's umaResolutionStatus proposed or
disputed) is not entered: the gate refuses new risk there with RESOLUTION_PENDING and lets exits
through."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from contracts.domain import MarketView, PositionView
from engine.risk.gate import Reason, RiskContext
from engine.venues.polymarket.parse_markets import gamma_market
from tests.risk.test_gate import MARKET, SH, buy, check, ctx, reasons, sell

CAPTURED = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "captured"


def proposed(context: RiskContext, status: str = "proposed") -> RiskContext:
    view = context.markets["c1"]
    info = replace(MARKET, resolution_status=status)
    return replace(context, markets={"c1": MarketView(info, view.yes, view.no)})


@pytest.mark.parametrize("status", ["proposed", "disputed", "resolved", "some-new-status"])
def test_no_new_position_while_resolution_is_under_way(status: str) -> None:
    intent, decisions = check([buy(0.48, 10), sell(0.52, 10)], proposed(ctx(), status))
    assert intent.quotes == ()
    assert reasons(decisions) == [("RESOLUTION_PENDING", "deny", 0), ("RESOLUTION_PENDING", "deny", 0)]
    assert status in decisions[0].detail and "no new position" in decisions[0].detail


def test_exits_pass_and_only_the_increase_is_cut() -> None:
    held = PositionView("c1", yes=30 * SH)
    intent, decisions = check([sell(0.52, 50)], proposed(ctx(position=held)))
    assert [q.size for q in intent.quotes] == [30 * SH]  # the 30 held are sold; the 20 that would go short are not
    assert reasons(decisions) == [("RESOLUTION_PENDING", "resize", 30 * SH)]


def test_a_market_without_a_proposal_trades_as_usual() -> None:
    intent, decisions = check([buy(0.48, 10)], ctx())
    assert decisions == [] and intent.quotes
    assert not any(d.reason is Reason.RESOLUTION_PENDING for d in decisions)


def test_gamma_status_is_read_lower_case_and_empty_when_absent() -> None:
    raw = {"conditionId": "0xc", "clobTokenIds": '["1", "2"]', "umaResolutionStatus": " Proposed "}
    parsed = gamma_market(raw)
    assert parsed is not None and parsed.resolution_status == "proposed"
    absent = gamma_market({"conditionId": "0xc", "clobTokenIds": '["1", "2"]'})
    assert absent is not None and absent.resolution_status == ""


def test_a_market_reopened_after_a_dispute_is_still_not_entered() -> None:
    """A disputed proposal voted down sends the market back to trading with no current status: its
    trail (Gamma's umaResolutionStatuses) is what says it is contested, and the gate reads it."""
    view = ctx().markets["c1"]
    info = replace(MARKET, resolution_status="", resolution_history=("proposed", "disputed"))
    reopened = replace(ctx(), markets={"c1": MarketView(info, view.yes, view.no)})
    intent, decisions = check([buy(0.48, 10)], reopened)
    assert intent.quotes == () and reasons(decisions) == [("RESOLUTION_PENDING", "deny", 0)]
    assert "reopened (before: proposed, disputed)" in decisions[0].detail


def test_the_trail_is_read_as_the_venue_sends_it() -> None:
    """Gamma sends the trail as a JSON-encoded string (as captured: a resolved market whose trail is
    the proposal before it); a trail the desk cannot read counts as one."""
    captured = json.loads((CAPTURED / "gamma_market_sports_market_money_line.json").read_text())
    parsed = gamma_market(captured)
    assert parsed is not None and (parsed.resolution_status, parsed.resolution_history) == ("resolved", ("proposed",))
    quiet = gamma_market(json.loads((CAPTURED / "gamma_market.json").read_text()))
    assert quiet is not None and quiet.resolution_history == ()
    odd = gamma_market({"conditionId": "0xc", "clobTokenIds": '["1", "2"]', "umaResolutionStatuses": "[3]"})
    assert odd is not None and odd.resolution_history == ("unreadable",)
