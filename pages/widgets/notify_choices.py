"""Settings page, Notifications: which events go to which channel, for all strategies or some.

One form: for each event (alerts, fills, entries, exits, refused orders, orders cancelled by the
venue, the daily summary) and each channel (NOTIFY_URLS through apprise, the Telegram bot), the
strategies to hear of ("All strategies" or some by name; alerts concern the whole desk). Saved as
the `notify_choices` setting: validated by the engine's own rule, versioned and audited."""

from __future__ import annotations

from typing import Any

import streamlit as st

from charts import text
from contracts import notify_choices
from contracts.notify_choices import ALL, CHANNEL_LABELS, CHANNELS, EVENT_LABELS, EVENTS
from contracts.settings import Settings
from pages.widgets.common import actor, flash
from pages.widgets.controls import saved_then_reload
from storage.dashboard_queries import status_queries as queries
from storage.dashboard_queries import trading_queries
from storage.desk import config
from storage.sqlite.db import Database

ALL_LABEL = "All strategies"
KEY = "notify_choices"


def _channel_state(current: Settings) -> dict[str, str]:
    schemes = current.notify_destinations()
    bot = current.telegram
    sealed = set(current.sealed_names)
    return {
        "apprise": (f"{len(schemes)} destination{'s' if len(schemes) != 1 else ''}" if schemes
                    else "sealed (encrypted at rest)" if "NOTIFY_URLS" in sealed else "not configured"),
        "telegram": (f"{len(bot.allowed_chats)} chat{'s' if len(bot.allowed_chats) != 1 else ''}" if bot is not None
                     else "sealed (encrypted at rest)" if "TELEGRAM_BOT_TOKEN" in sealed
                     else "not configured (TELEGRAM_BOT_TOKEN)"),
    }


def choices_from_form(picked: dict[tuple[str, str], Any]) -> dict[str, dict[str, list[str]]]:
    """(event, channel) -> True/False (alerts) or the strategy labels picked -> the stored mapping."""
    out: dict[str, dict[str, list[str]]] = {}
    for (event, channel), value in picked.items():
        names = ([ALL] if value else []) if isinstance(value, bool) else [ALL if v == ALL_LABEL else v for v in value]
        for name in names:
            out.setdefault(name, {}).setdefault(event, []).append(channel)
    return out


def notify_choices_form(db: Database, current: Settings) -> None:
    stored = queries.engine_settings(db).get("notify_choices")
    raw = stored["value"] if stored and isinstance(stored["value"], str) else notify_choices.DEFAULT_JSON
    version = stored["version"] if stored else None
    try:
        choices = notify_choices.parse(raw)
    except notify_choices.ChoicesError as exc:
        st.error(f"The stored choices cannot be read ({text.markdown(exc)}); "
                 "the engine uses the defaults until they are saved "
                 "again.", icon=":material/error:")
        choices = notify_choices.parse(notify_choices.DEFAULT_JSON)
    names = sorted(set(trading_queries.strategies(db)["name"]) | {n for n in choices.rules if n != ALL})
    state = _channel_state(current)
    st.caption("Which events reach you, and where. A strategy's choices add to those of all strategies. What the "
               "hourly rate cap holds back goes out as one digest per channel, never dropped.")
    picked: dict[tuple[str, str], Any] = {}
    with st.form(f"{KEY}_form_v{version or 0}"):
        heads = st.columns([2, 3, 3])
        heads[0].markdown("**Event**")
        for col, channel in zip(heads[1:], CHANNELS, strict=True):
            col.markdown(f"**{CHANNEL_LABELS[channel]}** ({state[channel]})")
        for event in EVENTS:
            row = st.columns([2, 3, 3])
            row[0].markdown(EVENT_LABELS[event])
            for col, channel in zip(row[1:], CHANNELS, strict=True):
                key = f"{KEY}_{event}_{channel}_v{version or 0}"
                if event in notify_choices.GLOBAL_ONLY:
                    picked[(event, channel)] = col.checkbox("send", value=channel in choices.channels(event),
                                                            key=key)
                    continue
                chosen = [ALL_LABEL] if channel in choices.channels(event) else []
                chosen += [n for n in names if channel in choices.rules.get(n, {}).get(event, frozenset())]
                picked[(event, channel)] = col.multiselect(
                    "strategies", [ALL_LABEL, *names], default=chosen, key=key, label_visibility="collapsed",
                    placeholder="none")
        submitted = st.form_submit_button("Save notification choices", type="primary", key=f"{KEY}_save")
    if submitted:
        _save(db, choices_from_form(picked), version)
    flash(near=KEY)


def _save(db: Database, wanted: dict[str, dict[str, list[str]]], version: int | None) -> None:
    stored = notify_choices.from_mapping(wanted).to_json()
    try:
        saved = config.save_settings(db, {"notify_choices": (stored, version)}, actor=actor())
    except config.StaleVersion as exc:
        st.error(f"Nothing saved: {text.markdown(exc)}.", icon=":material/sync_problem:")
        return
    except config.ConfigError as exc:
        st.error(text.markdown(exc), icon=":material/error:")
        return
    saved_then_reload(db, saved.reload_command_id, flash="Saved the notification choices.",
                      label="The engine's reload of the notification choices", near=KEY)
