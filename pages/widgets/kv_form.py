"""A form over versioned key/value rows (risk limits, engine settings) with optimistic concurrency.

The form shows a baseline: the values and versions as they were when the operator opened
it, kept in session state. On submit, only fields whose text changed are parsed (with the
engine's validators); any error shows under its field and nothing is saved. The changed rows
are then saved in one transaction with the versions of the baseline, so a change made
elsewhere meanwhile refuses the whole save ("changed elsewhere — reload").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from pages.widgets.common import database, flash
from pages.widgets.controls import saved_then_reload
from pages.widgets.fields import ErrorSlots, grid_cells, reload_round, start_afresh
from storage.desk import config

Parse = Callable[[str], tuple[Any, str]]  # raw text -> (value to store, "") or (None, error)


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    help: str
    text: str  # the current value as the operator would type it
    version: int | None  # None: no row yet (the engine writes defaults when it starts)
    parse: Parse
    # How it is edited: typed text; an on/off toggle (text "1"/"0"); or a pick of `choices`
    # (text: the picked ones, comma-separated, in the choices' order). The parse is the same.
    widget: str = "text"
    choices: tuple[str, ...] = ()


def on_off(text: str) -> bool:
    return text.strip() not in ("", "0", "0.0", "false", "False")


def _input(field: Field, key: str) -> str:
    """The field's widget; returns its value as the text the parse reads."""
    if field.widget == "toggle":
        return "1" if st.toggle(field.label, value=on_off(field.text), help=field.help, key=key) else "0"
    if field.widget == "multi":
        current = [c for c in (part.strip() for part in field.text.split(",")) if c in field.choices]
        picked = st.multiselect(field.label, list(field.choices), default=current, help=field.help, key=key)
        return ",".join(c for c in field.choices if c in picked)
    return st.text_input(field.label, value=field.text, help=field.help, key=key)


def _picked_text(field: Field) -> str:
    """A choice field's stored text as its widget writes it (so an unchanged pick is no change)."""
    stored = {part.strip() for part in field.text.split(",")}
    return ",".join(c for c in field.choices if c in stored)


def widget_key(prefix: str, field_key: str, version: int | None) -> str:
    """Carries the version, so fields restart from the stored value after a save, and the
    reload round, so a Reload also clears what was typed and refused (fields.start_afresh)."""
    return f"{prefix}{field_key}_v{version or 0}{reload_round(prefix)}"


def _baseline(state_key: str, fields: Sequence[Field]) -> dict[str, Field]:
    if state_key not in st.session_state:
        st.session_state[state_key] = {f.key: f for f in fields}
    return st.session_state[state_key]


def versioned_form(
    *,
    prefix: str,
    fields: Sequence[Field],
    save: Callable[[dict[str, tuple[Any, int | None]]], config.Saved],
    what: str,
    columns: int = 2,
) -> None:
    """Render the form; `save` receives {key: (parsed value, baseline version)} for changed fields."""
    state_key = f"{prefix}baseline"
    base = _baseline(state_key, fields)
    stale = [f.label for f in fields if f.key in base and base[f.key].version != f.version]
    if stale:
        st.warning(
            f"Changed elsewhere since you opened this form: {', '.join(stale)} — reload to see the "
            "current values.",
            icon=":material/sync_problem:",
        )
    if st.button("Reload", key=f"{prefix}reload", icon=":material/refresh:"):
        st.session_state.pop(state_key, None)
        start_afresh(prefix)
        st.rerun()
    shown = [base.get(f.key, f) for f in fields]
    with st.form(f"{prefix}form"):
        slots, raw = ErrorSlots(), {}
        for cell, field in zip(grid_cells(len(shown), columns), shown, strict=True):
            with cell:
                raw[field.key] = _input(field, widget_key(prefix, field.key, field.version))
                slots.add(field.key)
        summary = st.empty()
        submitted = st.form_submit_button(f"Save {what}", type="primary", key=f"{prefix}save")
    if submitted:
        _submit(state_key, shown, raw, slots, summary, save, what, prefix)
    flash(near=prefix)  # what the last save did, under its button (not at the page's top)


def _submit(
    state_key: str,
    shown: Sequence[Field],
    raw: dict[str, str],
    slots: ErrorSlots,
    summary: Any,
    save: Callable[[dict[str, tuple[Any, int | None]]], config.Saved],
    what: str,
    prefix: str,
) -> None:
    changes: dict[str, tuple[Any, int | None]] = {}
    errors: dict[str, str] = {}
    for field in shown:
        text = raw[field.key].strip()
        if text == field.text or (field.widget == "toggle" and on_off(text) == on_off(field.text)) or (
                field.widget == "multi" and text == _picked_text(field)):
            continue
        value, error = field.parse(text)
        if error:
            errors[field.key] = error
        else:
            changes[field.key] = (value, field.version)
    if errors:
        slots.show(errors)
        summary.error("Nothing saved: fix the fields marked above.")
        return
    if not changes:
        summary.info("Nothing changed.")
        return
    try:
        saved = save(changes)
    except config.StaleVersion as exc:
        summary.error(f"Nothing saved: {exc}.", icon=":material/sync_problem:")
        return
    except config.ConfigError as exc:  # refused as a whole, e.g. fields that only make sense together
        marked = {key: why for key, why in exc.fields.items() if key in raw}
        slots.show(marked)
        summary.error("Nothing saved: fix the fields marked above." if marked else f"Nothing saved: {exc}.")
        return
    st.session_state.pop(state_key, None)
    saved_then_reload(database(), saved.reload_command_id, flash=f"Saved {what}: {', '.join(changes)}.",
                      label=f"The engine's reload of the {what}", waiting="Waiting for the engine to apply them…",
                      near=prefix)
