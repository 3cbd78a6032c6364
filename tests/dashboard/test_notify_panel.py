"""Settings page, Notifications: destinations shown by service only (never a URL or token), the
rules form validated by the engine's catalogue and audited, the test button posting `notify_test`
and showing the engine's answer (or that it is queued), and the delivery status."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.runtime_settings import SETTINGS
from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import answer_next, engine_up
from tests.dashboard.reading import as_read

TOKEN = "123456789:SECRETbotTOKEN"
URLS = f"json://127.0.0.1:9/hook, tgram://{TOKEN}/55555555"


@pytest.fixture
def with_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_URLS", URLS)


def _everything_shown(at: AppTest) -> str:
    """Every element the page rendered (its protobuf, text and data included)."""
    found: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(found)


def test_destinations_show_services_only_never_a_url(with_urls: None, db: Database,
                                                     page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    assert not at.exception
    shown = _everything_shown(at)
    assert "2 destinations: json, tgram" in shown
    assert "SECRETbotTOKEN" not in shown and "55555555" not in shown and "127.0.0.1:9" not in shown


def test_without_destinations_the_page_says_how_to_add_them(db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    assert any("NOTIFY_URLS" in info.value for info in at.info)
    assert at.button(key="notify_test").disabled


def test_rules_are_validated_saved_and_audited(with_urls: None, db: Database,
                                               page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    levels = at.multiselect(key="notify_notify_levels_v0")  # a pick of the levels, not comma text
    assert levels.options == ["info", "warning", "critical"] and levels.value == ["warning", "critical"]
    levels.set_value(["critical"])
    at.text_input(key="notify_notify_muted_codes_v0").input("daily_reset, cash_sync")
    at.text_input(key="notify_notify_summary_utc_v0").input("6:30")
    at.button(key="notify_save").click().run()
    assert not at.exception
    with db.read() as conn:
        stored: dict[str, str] = dict(
            conn.execute(text("SELECT key, value FROM settings WHERE key LIKE 'notify_%'")).all())
        audited = conn.execute(text("SELECT COUNT(*) FROM audit_log WHERE action = 'setting.update'")).scalar_one()
    assert stored == {"notify_levels": '"critical"', "notify_muted_codes": '"CASH_SYNC,DAILY_RESET"',
                      "notify_summary_utc": '"06:30"'}
    assert audited == 3

    at = page("settings")
    at.multiselect(key="notify_notify_levels_v1").set_value(["info"])
    at.text_input(key="notify_notify_max_per_hour_v0").input("0")
    at.button(key="notify_save").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "between 1 and 1000" in errors  # all or nothing: the valid pick is not saved either
    with db.read() as conn:
        assert conn.execute(text("SELECT value FROM settings WHERE key = 'notify_levels'")).scalar_one() == '"critical"'


def test_the_test_button_shows_the_engines_answer(with_urls: None, db: Database,
                                                  page: Callable[[str], AppTest]) -> None:
    engine_up(db)
    at = page("settings")
    engine = answer_next(db, "notify_test", ok=True, result=json.dumps({"delivered": 2}))
    at.button(key="notify_test").click().run()
    engine.join(10)
    assert not at.exception
    assert any("Test message delivered" in s.value for s in at.success)

    engine_up(db)
    at = page("settings")
    engine = answer_next(db, "notify_test", ok=False, error="not delivered to 1 of 2 destination(s): #2 Telegram: "
                                                            "failure")
    at.button(key="notify_test").click().run()
    engine.join(10)
    assert any(e.value.startswith("Test message: failed") and "not delivered to 1 of 2" in e.value
               for e in at.error), [e.value for e in at.error]


def test_the_test_button_says_queued_when_the_engine_is_down(with_urls: None, db: Database,
                                                             page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    at.button(key="notify_test").click().run()
    assert any("engine is not running" in w.value for w in at.warning)
    with db.read() as conn:
        assert conn.execute(text("SELECT kind, status FROM commands")).all() == [("notify_test", "pending")]


def test_delivery_status_shows_the_last_failure_and_the_table(with_urls: None, db: Database,
                                                              page: Callable[[str], AppTest]) -> None:
    now = now_ms()
    with db.write() as conn:
        for status, error, at_ms in (("sent", None, now - 60_000), ("failed", "JSON json://127.0.0.1:9/hook: "
                                                                    "failure (A Connection error occurred)", now)):
            conn.execute(text("""INSERT INTO notifications (created_at, kind, level, title, body, status, attempts,
                                     last_attempt_at, error) VALUES (:at, 'alert', 'critical', 'CRITICAL KILLED',
                                     'kill: news', :s, 4, :at, :e)"""), {"at": at_ms, "s": status, "e": error})
    at = page("settings")
    assert any("failed: JSON json://127.0.0.1:9/hook: failure" in as_read(e.value) for e in at.error)
    table = [d.value for d in at.dataframe if "attempts" in d.value.columns]
    assert len(table) == 1 and list(table[0]["status"]) == ["failed", "sent"]


NOTIFY_SPECS = [spec for spec in SETTINGS if spec.group == "notify"]
BAD = {"notify_muted_codes": ["KILL ME", "x" * 70],
       "notify_dedup_minutes": ["abc", "1441", "nan", "-1"], "notify_max_per_hour": ["0", "1e9", "5.5"],
       "notify_summary_utc": ["25:00", "7pm", "07:60"], "notify_digest_minutes": ["0", "61", "abc"]}


@pytest.mark.parametrize(("key", "value"), [(key, value) for key, values in BAD.items() for value in values])
def test_each_invalid_rule_is_refused_with_its_field_named(db: Database, page: Callable[[str], AppTest],
                                                           key: str, value: str) -> None:
    spec = next(s for s in NOTIFY_SPECS if s.key == key)
    at = page("settings")
    at.text_input(key=f"notify_{key}_v0").input(value)
    at.button(key="notify_save").click().run()
    assert any(e.value.startswith(f"{spec.title}: ") for e in at.error), [e.value for e in at.error]
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM settings WHERE key LIKE 'notify_%'")).scalar_one() == 0


def test_every_notification_setting_has_a_case() -> None:
    picked = {"notify_levels"}  # chosen from the levels: nothing else can be given
    assert {spec.key for spec in NOTIFY_SPECS} == set(BAD) | picked


def test_notification_choices_are_saved_per_event_channel_and_strategy_and_audited(
        with_urls: None, db: Database, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm-btc', 'market_making', '{}', '[]', 1, 0, 0, 't')"""))
    engine_up(db)
    answer_next(db, "reload_config", ok=True)
    at = page("settings")
    assert at.checkbox(key="notify_choices_alert_apprise_v0").value  # the default: alerts everywhere
    assert at.multiselect(key="notify_choices_fill_telegram_v0").value == []
    at.multiselect(key="notify_choices_fill_telegram_v0").set_value(["mm-btc"])
    at.multiselect(key="notify_choices_exit_apprise_v0").set_value(["All strategies"])
    at.checkbox(key="notify_choices_alert_telegram_v0").uncheck()
    at.button(key="notify_choices_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with db.read() as conn:
        stored = json.loads(conn.execute(text("SELECT value FROM settings WHERE key = 'notify_choices'")).scalar_one())
        audit = conn.execute(text("SELECT actor, action FROM audit_log WHERE entity = 'settings:notify_choices'")).all()
    assert json.loads(stored) == {"*": {"alert": ["apprise"], "exit": ["apprise"], "summary": ["apprise", "telegram"]},
                                  "mm-btc": {"fill": ["telegram"]}}
    assert [a for _, a in audit] == ["setting.update"]
    assert "not configured (TELEGRAM_BOT_TOKEN)" in _everything_shown(at)


def test_on_off_settings_and_limits_are_toggles(db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    redeem = at.toggle(key="setting_auto_redeem_v0")
    assert redeem.value is True  # default 1
    redeem.set_value(False)
    at.button(key="setting_save").click().run()
    assert not at.exception
    with db.read() as conn:
        assert conn.execute(text("SELECT value FROM settings WHERE key = 'auto_redeem'")).scalar_one() == "0"
    risk = page("risk")
    assert risk.toggle(key="limit_kill_flatten_v0").value is False
