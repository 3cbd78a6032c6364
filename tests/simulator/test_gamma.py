"""Gamma ``/markets`` and ``/events`` under /gamma."""

from __future__ import annotations

import json

import httpx


def _get(sim, path: str, **params) -> httpx.Response:
    return httpx.get(sim.gamma_host + path, params=params, timeout=5)


def test_markets_listing_and_filters(sim):
    rows = _get(sim, "/markets").json()
    assert len(rows) == 14 and all(not r["closed"] and r["active"] for r in rows)
    assert [r["id"] for r in _get(sim, "/markets", limit=3, offset=2).json()] == [r["id"] for r in rows[2:5]]
    first, second = rows[0], rows[1]
    by_token = _get(sim, "/markets", clob_token_ids=json.loads(second["clobTokenIds"])[1]).json()
    assert [r["id"] for r in by_token] == [second["id"]]
    repeated = [("condition_ids", first["conditionId"]), ("condition_ids", second["conditionId"])]
    both = httpx.get(sim.gamma_host + "/markets", timeout=5, params=repeated)
    assert {r["id"] for r in both.json()} == {first["id"], second["id"]}
    comma = _get(sim, "/markets", condition_ids=f"{first['conditionId']},{second['conditionId']}").json()
    assert len(comma) == 2
    assert _get(sim, "/markets", active="false").json() == []
    assert _get(sim, "/markets", closed="true").json() == []


def test_market_fields(sim):
    m = sim.market(neg_risk=True)
    row = _get(sim, f"/markets/{m['gamma_id']}").json()
    assert row["conditionId"] == m["condition_id"] and row["negRisk"] is True
    assert json.loads(row["clobTokenIds"]) == [m["yes_token_id"], m["no_token_id"]]
    assert json.loads(row["outcomes"]) == ["Yes", "No"]
    assert row["orderPriceMinTickSize"] == float(m["tick_size"]) and row["orderMinSize"] == int(m["min_size"])
    assert row["negRiskMarketID"] == m["neg_risk_market_id"] and row["version"] == "v1"
    assert isinstance(row["volume"], str) and isinstance(row["volumeNum"], float)
    assert row["endDate"].endswith("Z") and row["acceptingOrders"] is True
    assert _get(sim, "/markets/999").status_code == 404
    assert _get(sim, f"/markets/slug/{row['slug']}").json()["id"] == row["id"]


def test_neg_risk_group_is_an_event(sim):
    events = _get(sim, "/events").json()
    grouped = [e for e in events if e["negRisk"]]
    assert [e["title"] for e in grouped] == ["2022 World Cup Winner", "Fed decision in February 2023"]  # by default
    members = grouped[0]["markets"]
    assert len(members) >= 3 and len({m["negRiskMarketID"] for m in members}) == 1
    assert _get(sim, f"/events/{grouped[0]['id']}").json()["title"] == grouped[0]["title"]


def test_ordering(sim):
    m = sim.market(neg_risk=False, index=3)
    sim.print_trade(m["yes_token_id"], "0.5", "1000", "BUY")
    top = _get(sim, "/markets", order="volumeNum", ascending="false", limit=1).json()
    assert top[0]["conditionId"] == m["condition_id"] and top[0]["volumeNum"] >= 500
