"""The usage chart says when a breaker is latched (issue 87, item 6): the daily-loss breaker holds REDUCING until
00:00 UTC once hit, whatever the day's PnL does next, so a day that lost, then earned it back, must not read
"0.00 pUSD / 100.00 pUSD" in green while the desk only reduces risk."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database


def _usage(at: AppTest) -> dict[str, str]:
    chart = next(c for c in at.get("plotly_chart") if c.key == "usage_chart")
    bar = json.loads(chart.proto.spec)["data"][0]
    return dict(zip(bar["y"], bar["text"], strict=True))


def test_a_latched_daily_loss_is_said_on_the_usage_chart(seeded: int, db: Database,
                                                         page: Callable[[str], AppTest]) -> None:
    # The seeded desk is REDUCING for its daily loss, and its equity has come back above the day's start.
    labels = _usage(page("overview"))
    assert labels["Max daily loss"].startswith("0.00 pUSD / 100.00 pUSD") and "latched: REDUCING until 00:00 UTC" in \
        labels["Max daily loss"], labels
    assert "latched" not in labels["Max drawdown from peak"]
    with db.write() as conn:  # the next day: ACTIVE again, nothing latched
        conn.execute(text("UPDATE engine_state SET trading_state = 'ACTIVE', trading_state_reason = NULL"))
    assert not any("latched" in label for label in _usage(page("overview")).values())
