"""Market selection: explicit lists, filters and spec validation."""

from __future__ import annotations

from typing import Any

from engine.strategies import MarketCandidate, select_markets, validate_market_spec
from tests.strategies.builders import info, px

NOW = 1_700_000_000_000
HOUR = 3_600_000
DAY = 24 * HOUR


def candidate(cid: str, *, volume: float = 0, liquidity: float = 0, volume_24h: float = 0,
              **market: Any) -> MarketCandidate:
    return MarketCandidate(info(cid, **market), volume=px(volume), liquidity=px(liquidity),
                           volume_24h=px(volume_24h))


UNIVERSE = [
    candidate("btc", volume=50_000, liquidity=8_000, volume_24h=900, end_ms=NOW + 2 * DAY,
              tags=("Crypto",), slug="bitcoin-above-100k"),
    candidate("eth", volume=20_000, liquidity=9_000, volume_24h=100, end_ms=NOW + 30 * DAY,
              tags=("crypto",), slug="ethereum-flips"),
    candidate("elec", volume=90_000, liquidity=2_000, volume_24h=5_000, end_ms=NOW + 3 * HOUR,
              tags=("Politics",), neg_risk=True, neg_risk_market_id="e1"),
    candidate("dead", volume=99_000, liquidity=99_000, closed=True),
    candidate("noend", volume=10, liquidity=10),
]


def select(filter_: dict[str, object]) -> list[str]:
    return select_markets({"filter": filter_}, UNIVERSE, now_ms=NOW)


def test_explicit_list_is_kept_in_order_without_duplicates() -> None:
    assert select_markets(["eth", "zzz", "eth", "btc"], UNIVERSE, now_ms=NOW) == ["eth", "zzz", "btc"]
    assert select_markets([], UNIVERSE, now_ms=NOW) == []


def test_default_filter_sorts_by_liquidity_and_skips_closed() -> None:
    assert select({}) == ["eth", "btc", "elec", "noend"]
    assert select({"tradable_only": False})[0] == "dead"


def test_each_filter_field() -> None:
    assert select({"sort": "volume"}) == ["elec", "btc", "eth", "noend"]
    assert select({"sort": "volume_24h", "max_markets": 2}) == ["elec", "btc"]
    assert select({"min_volume": 20_000}) == ["eth", "btc", "elec"]
    assert select({"min_liquidity": 8_000}) == ["eth", "btc"]
    assert select({"tags": ["CRYPTO"]}) == ["eth", "btc"]
    assert select({"tags": ["politics", "crypto"]}) == ["eth", "btc", "elec"]
    assert select({"text": "Question BTC"}) == ["btc"]  # every word, case-insensitive
    assert select({"text": "bitcoin"}) == ["btc"]  # the slug is searched too
    assert select({"neg_risk_only": True}) == ["elec"]
    # ends at least 24 h from now: the election (3 h) and the dateless market drop out
    assert select({"ends_after_hours": 24}) == ["eth", "btc"]
    # ends within 7 days
    assert select({"ends_within_days": 7}) == ["btc", "elec"]
    assert select({"ends_within_days": 7, "ends_after_hours": 1, "min_liquidity": 5_000}) == ["btc"]


def test_invalid_specs_select_nothing_and_explain_why() -> None:
    assert validate_market_spec(["a", "b"]) == {}
    assert validate_market_spec({"filter": {"text": "x", "tags": ["a"], "ends_within_days": None}}) == {}
    assert validate_market_spec(["a", "", 3]) == {
        "markets[1]": "must be a non-empty condition id string",
        "markets[2]": "must be a non-empty condition id string",
    }
    assert validate_market_spec("btc") == {"markets": 'must be a list of condition ids or {"filter": {...}}'}
    assert validate_market_spec({}) == {"filter": "missing"}
    assert validate_market_spec({"filter": 3}) == {"filter": "must be an object of filter fields"}
    errors = validate_market_spec({"ids": [], "filter": {
        "text": 5, "tags": "crypto", "min_volume": -1, "sort": "price", "max_markets": 0,
        "neg_risk_only": "no", "colour": "red"}})
    assert errors["ids"].startswith("unknown key")
    assert errors["filter.text"] == "must be text"
    assert errors["filter.tags"] == "must be a list of tag names"
    assert errors["filter.min_volume"] == "must be at least 0 pUSD"
    assert errors["filter.sort"] == "must be one of: liquidity, volume, volume_24h"
    assert errors["filter.max_markets"] == "must be at least 1"
    assert errors["filter.neg_risk_only"] == "must be true or false"
    assert errors["filter.colour"].startswith("unknown filter field")
    assert select_markets({"filter": {"sort": "price"}}, UNIVERSE, now_ms=NOW) == []
    assert select_markets(None, UNIVERSE, now_ms=NOW) == []
