"""A form over versioned key/value rows (risk limits, engine settings) with optimistic concurrency.

The form shows a baseline: the values and versions as they were when the operator opened
it, kept in session state. On submit, only fields whose text changed are parsed (with the
engine's validators); any error shows under its field and nothing is saved. The changed rows
are then saved in one transaction with the versions of the baseline, so a change made
elsewhere meanwhile refuses the whole save ("changed elsewhere — reload").

A save that would switch protection off (a limit turning a breaker off, or looser than the whole
account: contracts/protection.py, judged by the writer) saves nothing at first: each such field
says why beside it, and a box under the Save button lists them, old and new, with a second,
explicit button that saves them (the writer audits the confirmation) or keeps protection.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from charts import text as shown_text
from pages.widgets.common import database, flash, read_only
from pages.widgets.controls import saved_then_reload
from pages.widgets.fields import ErrorSlots, grid_cells, reload_round, start_afresh
from storage.desk import config

Parse = Callable[[str], tuple[Any, str]]  # raw text -> (value to store, "") or (None, error)
Changes = dict[str, tuple[Any, int | None]]  # key -> (parsed value, baseline version)
Save = Callable[[Changes, Collection[str]], config.Saved]  # the changes, and the keys confirmed as loosening
Judge = Callable[[str, str], str | None]  # (key, stored text) -> why that value protects nothing, or None


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
    save: Save,
    what: str,
    columns: int = 2,
    judge: Judge | None = None,
    admin: bool = False,
) -> None:
    """Render the form; `save` receives {key: (parsed value, baseline version)} for changed fields and
    the keys the operator confirmed as switching protection off. `judge`: what a stored value leaves
    unprotected, said under its field while it is stored. `admin`: the values are the administrator's to
    change; a login that may not change them reads them in a table, with no form."""
    if read_only(f"the {what}", admin=admin):
        st.dataframe([{"setting": f.label, "value": f.text or "—"} for f in fields], hide_index=True,
                     placeholder="—")
        return
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
    pending: dict[str, Any] | None = st.session_state.get(_pending_key(prefix))
    with st.form(f"{prefix}form"):
        slots, raw = ErrorSlots(), {}
        for cell, field in zip(grid_cells(len(shown), columns), shown, strict=True):
            with cell:
                raw[field.key] = _input(field, widget_key(prefix, field.key, field.version))
                slots.add(field.key)
                if judge is not None and not (pending and field.key in pending["why"]) and (
                        why := judge(field.key, field.text)):
                    st.caption(f":material/warning: Protects nothing as stored: {shown_text.markdown(why)}")
        summary = st.empty()
        submitted = st.form_submit_button(f"Save {what}", type="primary", key=f"{prefix}save")
    if pending and not submitted:
        _warn_beside(slots, pending["why"])
    if submitted:
        _submit(state_key, shown, raw, slots, summary, save, what, prefix)
    _confirm_box(state_key, shown, save, what, prefix)
    flash(near=prefix)  # what the last save did, under its button (not at the page's top)


def _pending_key(prefix: str) -> str:
    return f"{prefix}loosening"


def _warn_beside(slots: ErrorSlots, why: dict[str, str]) -> None:
    for key, reason in why.items():
        if (slot := slots.slots.get(key)) is not None:
            slot.warning(f"Switches protection off: {shown_text.markdown(reason)}", icon=":material/gpp_maybe:")


def _confirm_box(state_key: str, shown: Sequence[Field], save: Save, what: str, prefix: str) -> None:
    """The second, explicit step of a save that switches protection off: what changes, old and new,
    and why each leaves the account unprotected; saved only by its own button (audited as such)."""
    pending: dict[str, Any] | None = st.session_state.get(_pending_key(prefix))
    if not pending:
        return
    labels = {f.key: (f.label, f.text) for f in shown}
    lines = [f"- **{shown_text.markdown(labels[key][0])}**: {shown_text.markdown(labels[key][1])} → "
             f"{shown_text.markdown(str(pending['changes'][key][0]))}: {shown_text.markdown(why)}"
             for key, why in pending["why"].items() if key in labels]
    with st.container(border=True, key=f"{prefix}loosen_box"):
        st.warning("Not saved yet: this switches protection off.\n\n" + "\n".join(lines)
                   + "\n\nSave only if you mean it: the confirmation goes to the audit log.",
                   icon=":material/gpp_maybe:")
        go, back = st.columns(2)
        confirmed = go.button("Save, switching protection off", type="primary", key=f"{prefix}loosen_confirm",
                              icon=":material/gpp_bad:")
        if back.button("Keep protection", key=f"{prefix}loosen_cancel", icon=":material/shield:"):
            st.session_state.pop(_pending_key(prefix), None)
            start_afresh(prefix)  # the fields show the stored values again
            st.rerun()
    if confirmed:
        _save(state_key, pending["changes"], set(pending["why"]), None, save, what, prefix)


def _submit(
    state_key: str,
    shown: Sequence[Field],
    raw: dict[str, str],
    slots: ErrorSlots,
    summary: Any,
    save: Save,
    what: str,
    prefix: str,
) -> None:
    st.session_state.pop(_pending_key(prefix), None)  # a new save asks afresh
    changes: Changes = {}
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
    _save(state_key, changes, (), (slots, summary), save, what, prefix)


def _save(state_key: str, changes: Changes, confirmed: Collection[str], marks: tuple[ErrorSlots, Any] | None,
          save: Save, what: str, prefix: str) -> None:
    """Save, or say why not: beside the fields (`marks`: their slots and the summary under the form;
    None from the confirmation box, which answers in its own place)."""
    slots, summary = marks if marks is not None else (None, st)
    try:
        saved = save(changes, confirmed)
    except config.StaleVersion as exc:
        st.session_state.pop(_pending_key(prefix), None)
        summary.error(f"Nothing saved: {exc}.", icon=":material/sync_problem:")
        return
    except config.Unprotected as exc:  # the writer's judgement: ask for the second, explicit step
        st.session_state[_pending_key(prefix)] = {"changes": changes, "why": dict(exc.fields)}
        if slots is not None:
            _warn_beside(slots, exc.fields)
        summary.warning("Not saved yet: this switches protection off. Confirm it below, or keep protection.",
                        icon=":material/gpp_maybe:")
        return
    except config.ConfigError as exc:  # refused as a whole, e.g. fields that only make sense together
        st.session_state.pop(_pending_key(prefix), None)
        marked = {key: why for key, why in exc.fields.items() if slots is not None and key in slots.slots}
        if slots is not None:
            slots.show(marked)
        summary.error("Nothing saved: fix the fields marked above." if marked else f"Nothing saved: {exc}.")
        return
    st.session_state.pop(state_key, None)
    st.session_state.pop(_pending_key(prefix), None)
    loosened = f" Protection switched off, as you confirmed (audited): {', '.join(confirmed)}." if confirmed else ""
    saved_then_reload(database(), saved.reload_command_id, flash=f"Saved {what}: {', '.join(changes)}.{loosened}",
                      label=f"The engine's reload of the {what}", waiting="Waiting for the engine to apply them…",
                      near=prefix)
