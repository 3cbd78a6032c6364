"""Settings page: notifications. Where they go (`NOTIFY_URLS` in .env: only the services are
shown, never a URL), which alerts notify (levels, muted codes, repeat window, hourly cap) and the
daily summary time, a test message with the engine's answer, and the delivery status."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from charts import text
from contracts.runtime_settings import SETTINGS
from contracts.settings import Settings
from pages.widgets.common import actor
from pages.widgets.controls import post, wait_for_answer
from pages.widgets.kv_form import versioned_form
from pages.widgets.notify_choices import notify_choices_form
from pages.widgets.setting_fields import setting_field
from storage.dashboard_queries import notify_queries
from storage.dashboard_queries import status_queries as queries
from storage.desk import config
from storage.sqlite.db import Database

NOTIFY_PREFIX = "notify_"
TEST_BUTTON = "notify_test"
ANSWER_WAIT_S = 12.0  # the engine gives a test message up to 10 s to arrive
SECONDS = "YYYY-MM-DD HH:mm:ss"


def notifications_panel(db: Database, current: Settings) -> None:
    _destinations(current)
    _test_button(db, current)
    _status(db)
    st.markdown("**What notifies, where**")
    notify_choices_form(db, current)
    st.markdown("**Which alerts, how often**")
    _rules_form(db)
    seen = notify_queries.alert_codes_seen(db)
    if seen:
        st.caption(f"Alert codes seen in the last 30 days: {text.markdown(', '.join(seen))}.")


def destinations_text(schemes: list[str]) -> str:
    if not schemes:
        return "No destination configured."
    return f"{len(schemes)} destination{'s' if len(schemes) != 1 else ''}: {', '.join(schemes)}"


def _destinations(current: Settings) -> None:
    schemes = current.notify_destinations()
    if not schemes and "NOTIFY_URLS" in current.sealed_names:
        st.markdown(":material/lock: **Destinations sealed** in `POLY_SECRETS_FILE`")
        st.caption("Encrypted at rest (`python -m engine keystore seal`): the engine and the watchdog open them "
                   "with the passphrase; the dashboard never can, so it does not list them.")
        return
    if not schemes:
        st.info("No destination yet: put one or more apprise URLs in `NOTIFY_URLS` in `.env` (Telegram, Discord, "
                "Slack, e-mail, ntfy, a webhook…; see docs/notifications.md), then restart the engine.",
                icon=":material/notifications_off:")
        return
    st.markdown(f":material/notifications_active: **{destinations_text(schemes)}**")
    st.caption("From `NOTIFY_URLS` in `.env` (the URLs hold tokens: they are never shown or stored). "
               "Changing them needs an engine restart.")


def _test_button(db: Database, current: Settings) -> None:
    if not st.button("Send a test message", key=TEST_BUTTON, icon=":material/send:",
                     disabled=not current.notify_destinations() and "NOTIFY_URLS" not in current.sealed_names):
        return
    row = post(db, "notify_test", {})
    if not queries.engine_status(db).engine_up:
        st.warning(f"Queued (command #{row.id}): the engine is not running, so nothing is sent until it starts "
                   "(the command expires after COMMAND_TTL_SECONDS).", icon=":material/schedule:")
        return
    with st.spinner("Sending…"):  # delivery takes longer than other commands: its own bounded wait
        answer = wait_for_answer(db, row.id, "notify_test", label="Test message", wait_s=ANSWER_WAIT_S)
    if answer.state == "queued":
        st.warning(f"Queued (command #{row.id}): the engine has not answered yet; the delivery status below "
                   "shows how it ends.", icon=":material/schedule:")
    elif answer.state == "done":
        st.success("Test message delivered: check that it arrived.", icon=":material/check_circle:")
    else:
        st.error(answer.message, icon=":material/error:")


def _ago(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _status(db: Database) -> None:
    health = notify_queries.notification_health(db)
    last = health["last"]
    if last is None:
        st.caption("Nothing sent yet.")
    elif last["status"] == "failed" or (last["status"] == "queued" and last["error"]):
        st.error(f"Last attempt {_ago(last['last_attempt_at'])} ({text.markdown(last['kind'])}) failed: "
                 f"{text.markdown(last['error'])}",
                 icon=":material/error:")
    else:
        st.success(f"Last delivery {_ago(last['last_attempt_at'])}: {text.markdown(last['kind'])} sent.",
                   icon=":material/check_circle:")
    held = sum(health["held_back"].values())
    digest = ", ".join(f"{n} for {'the Telegram bot' if c == 'telegram' else 'NOTIFY_URLS'}"
                       for c, n in sorted(health["digest"].items())) or "none"
    st.caption(f"{health['queued']} waiting, {health['failed_24h']} failed in the last 24 h, {held} alerts held "
               f"back as repeats since the last message; over the hourly cap, waiting for the digest: {digest}.")
    recent = notify_queries.notifications(db)
    if not recent.empty:
        st.dataframe(recent, hide_index=True, key="notifications_table",
                     column_config={"created_at": st.column_config.DatetimeColumn("queued", format=SECONDS),
                                    "last_attempt_at": st.column_config.DatetimeColumn("last attempt",
                                                                                       format=SECONDS)},
                     placeholder="—")



def _rules_form(db: Database) -> None:
    stored = queries.engine_settings(db)
    fields = []
    for spec in (s for s in SETTINGS if s.group == "notify"):
        fields.append(setting_field(spec, stored.get(spec.key)))

    def save(changes: dict[str, tuple[Any, int | None]], _confirmed: Collection[str]) -> config.Saved:
        return config.save_settings(db, changes, actor=actor())  # settings switch no protection off

    versioned_form(prefix=NOTIFY_PREFIX, fields=fields, save=save, what="notification rules", admin=True)
