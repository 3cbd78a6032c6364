"""The notifier's pure rules: which alerts notify, what is held back and said later, when the
daily summary is due, how long a retry waits."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.notify import policy
from engine.notify.policy import AlertRow, Rules, Verdict

NOW = int(datetime(2026, 11, 20, 14, 0, tzinfo=UTC).timestamp() * 1000)
RULES = Rules(levels=frozenset({"warning", "critical"}), muted=frozenset({"DAILY_RESET"}), dedup_ms=600_000,
              max_per_hour=3, summary_at="07:00")


def _alert(code: str = "FEED_DOWN", level: str = "critical", age_ms: int = 0) -> AlertRow:
    return AlertRow(7, NOW - age_ms, level, "engine", code, "market feed down for 45 s")


def test_levels_and_muted_codes_filter_and_the_notifier_never_reports_itself() -> None:
    assert policy.judge(_alert(), RULES, now=NOW, repeated=False, sent_last_hour=0) is Verdict.SEND
    assert policy.judge(_alert(level="info"), RULES, now=NOW, repeated=False, sent_last_hour=0) is Verdict.FILTERED
    muted = _alert("DAILY_RESET", "warning")
    assert policy.judge(muted, RULES, now=NOW, repeated=False, sent_last_hour=0) is Verdict.FILTERED
    every = Rules(frozenset(policy.NOTIFY_TYPE), frozenset(), 0, 100, "")
    failed = _alert("NOTIFY_FAILED", "warning")
    assert policy.judge(failed, every, now=NOW, repeated=False, sent_last_hour=0) is Verdict.FILTERED


def test_repeats_floods_and_stale_alerts_are_held_back() -> None:
    assert policy.judge(_alert(), RULES, now=NOW, repeated=True, sent_last_hour=0) is Verdict.DUPLICATE
    no_window = Rules(RULES.levels, RULES.muted, 0, 3, "")
    assert policy.judge(_alert(), no_window, now=NOW, repeated=True, sent_last_hour=0) is Verdict.SEND
    assert policy.judge(_alert(), RULES, now=NOW, repeated=False, sent_last_hour=3) is Verdict.RATE_CAPPED
    old = _alert(age_ms=policy.STALE_MS + 1)
    assert policy.judge(old, RULES, now=NOW, repeated=False, sent_last_hour=0) is Verdict.STALE
    assert policy.held_back_key(old, Verdict.STALE) == policy.STALE_KEY


def test_the_next_message_says_what_was_held_back() -> None:
    title, body = policy.alert_message(_alert(), "vps1", {"FEED_DOWN": 5, "ORDER_REFUSED": 2})
    assert title == "CRITICAL FEED_DOWN · desk on vps1"
    assert body.startswith("market feed down for 45 s\n(engine, 2026-11-20 14:00:00 UTC, alert #7)")
    assert "Held back since the last message: 7 alerts (5 FEED_DOWN, 2 ORDER_REFUSED)" in body
    assert "Held back" not in policy.alert_message(_alert(), "vps1", {})[1]


def test_the_daily_summary_is_due_once_its_time_has_come() -> None:
    seven = int(datetime(2026, 11, 20, 7, 0, tzinfo=UTC).timestamp() * 1000)
    assert policy.summary_slot(NOW, "07:00") == seven
    assert policy.summary_due(NOW, "07:00", last_at=seven - 86_400_000) == seven  # yesterday's went out
    assert policy.summary_due(NOW, "07:00", last_at=seven) is None  # today's went out
    assert policy.summary_due(NOW, "15:00", last_at=None) is None  # not yet
    assert policy.summary_due(NOW, "13:59:59", last_at=None) == NOW - 1000
    assert policy.summary_due(NOW, "", last_at=None) is None  # turned off


def test_retries_wait_longer_each_time_up_to_a_cap() -> None:
    assert [policy.backoff_s(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert policy.backoff_s(30) == policy.BACKOFF_CAP_S


def test_rules_come_from_the_validated_settings() -> None:
    rules = Rules.from_config({"notify_levels": "critical", "notify_muted_codes": "A,B", "notify_dedup_minutes": 5,
                               "notify_max_per_hour": 9, "notify_summary_utc": "06:30"})
    assert rules == Rules(frozenset({"critical"}), frozenset({"A", "B"}), 300_000, 9, "06:30")
    assert Rules.from_config({"notify_levels": "", "notify_muted_codes": "", "notify_dedup_minutes": 0,
                              "notify_max_per_hour": 1, "notify_summary_utc": ""}).levels == frozenset()


def test_the_summary_reads_at_a_glance() -> None:
    data = {"mode": "paper", "state": "RUNNING", "trading_state": "ACTIVE", "kill_latched": False,
            "equity": 10_012.5, "pnl_24h": 12.5, "realized_24h": 3.1, "fees_24h": 0.42, "fills": 14,
            "fill_volume": 210.0, "fill_fees": 0.42, "open_orders": 4, "positions": 2,
            "alerts_by_level": {"critical": 1, "warning": 3}, "alert_codes": [("ORDER_REFUSED", 3), ("KILLED", 1)],
            "unacked_alerts": 2}
    title, body = policy.summary_message(data, "vps1", {"FEED_DOWN": 4})
    assert title == "Daily summary · desk on vps1 (paper)"
    assert "Equity: 10,012.50 pUSD (+12.50 in the last 24 h; realized after fees +2.68, fees 0.42)" in body
    assert "Fills in 24 h: 14 (210.00 pUSD traded, 0.42 pUSD fees)" in body
    assert "Alerts in 24 h: 1 critical, 3 warning (ORDER_REFUSED ×3, KILLED ×1)" in body
    assert "4 FEED_DOWN" in body
