"""The desk's Kalshi parsers (engine/feeds/kalshi_models.py) read today's answers with nothing of what
Kalshi removed (Market.tick_size, response_price_units, fractional_trading_enabled, liquidity_dollars,
MarketPosition.resting_orders_count, EventData.available_on_brokers: the fixture's `removed`) and
nothing beyond the fields its published schema requires, so a field Kalshi drops that it never
promised does not stop the desk; the fields it added are read where present (Series.categories)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.feeds import kalshi_models as models

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kalshi" / "openapi_trimmed.json"


def _required_only(record: dict[str, Any], schema: str) -> dict[str, Any]:
    document = json.loads(FIXTURE.read_text())
    required = document["components"]["schemas"][schema]["required"]
    assert not set(document["removed"].get(schema, ())) & set(required)
    return {k: v for k, v in record.items() if k in required}


def test_a_market_and_a_position_with_only_their_required_fields_are_read() -> None:
    market = {"ticker": "KX-1", "event_ticker": "KX", "market_type": "binary", "yes_sub_title": "Yes",
              "no_sub_title": "No", "created_time": "2026-11-01T00:00:00Z", "updated_time": "2026-11-01T00:00:00Z",
              "open_time": "2026-11-01T00:00:00Z", "close_time": "2026-12-01T00:00:00Z",
              "latest_expiration_time": "2026-12-08T00:00:00Z", "settlement_timer_seconds": 60, "status": "active",
              "notional_value_dollars": "1.0000", "yes_bid_dollars": "0.4000", "yes_ask_dollars": "0.4200",
              "no_bid_dollars": "0.5800", "no_ask_dollars": "0.6000", "yes_bid_size_fp": "10.00",
              "yes_ask_size_fp": "3.50", "last_price_dollars": "0.4100", "previous_yes_bid_dollars": "0.0000",
              "previous_yes_ask_dollars": "0.0000", "previous_price_dollars": "0.0000", "volume_fp": "0.00",
              "volume_24h_fp": "0.00", "open_interest_fp": "0.00", "result": "", "can_close_early": True,
              "expiration_value": "", "rules_primary": "r", "rules_secondary": "", "price_level_structure":
              "linear_cent", "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
              "settlement_bounds_type": "default", "tick_size": 1, "liquidity_dollars": "0.0000"}
    read = models.market(_required_only(market, "Market"))
    assert (read.ticker, read.yes_bid, read.yes_ask, read.settlement_bounds) == ("KX-1", 400_000, 420_000, "default")
    position = {"ticker": "KX-1", "exchange_index": 0, "total_traded_dollars": "1.0000", "position_fp": "-2.50",
                "market_exposure_dollars": "1.5000", "realized_pnl_dollars": "0.0000", "fees_paid_dollars": "0.0100",
                "last_updated_ts": "2026-11-01T00:00:00Z", "resting_orders_count": 3}
    assert models.position(_required_only(position, "MarketPosition")).position == -2_500_000
    series = {"ticker": "KXS", "frequency": "daily", "title": "t", "category": "Crypto", "categories": ["Crypto"],
              "tags": [], "settlement_sources": [], "contract_url": "", "contract_terms_url": "",
              "fee_type": "quadratic", "fee_multiplier": 1, "additional_prohibitions": []}
    assert models.series(series).categories == ("Crypto",)
    assert models.series({k: v for k, v in series.items() if k != "categories"}).categories == ()
