"""Strategy templates on the Strategies page: save a strategy's kind and params as a named template (its
Settings tab), create a strategy from one (the picker's new strategy, started from the template's
params, its markets chosen as any new strategy's), and list, rename and delete them.

A template never trades (storage/desk/strategy_templates.py): the engine reads none. Every write is the
desk's configuration, audited and role-checked by its writer (templates: an operator of every venue;
the strategy made from one: config.create_strategy's checks, paper only until promoted).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import streamlit as st

from charts import text
from charts.tables import Col
from contracts.roles import Scope
from contracts.strategy_kinds import registry
from pages.widgets.common import actor, flash, may_not, read_only, utc
from pages.widgets.controls import saved_then_reload
from pages.widgets.strategy_form import strategy_form
from pages.widgets.strategy_panels import PICK, PICK_NEXT, _name_errors, _name_fields
from pages.widgets.tables import show_table
from storage.desk import config
from storage.desk import strategy_templates as templates
from storage.sqlite.db import Database

START, BLANK = "strategy_new_start", "A kind's defaults"
T_SAVE_NAME, T_SAVE = "template_save_name", "template_save"
T_PICK, T_NEW_NAME, T_RENAME, T_DELETE_OK, T_DELETE = (
    "template_pick", "template_new_name", "template_rename", "template_delete_ok", "template_delete")
T_SAID = "template_said"  # where the list's rename and delete answer
COLUMNS = {"name": Col("template", "name"), "kind": Col("kind"), "params": Col("params", "long"),
           "updated_at": Col("changed", "time"), "updated_by": Col("by", more=True)}


def _from_template(name: str) -> str:
    return f"Template: {name}"


def start_from_template(db: Database, existing: list[str]) -> bool:
    """Above a new strategy's form: start from a kind's defaults or from a template. True when a template
    was chosen (its form drawn here: the blank one is then not)."""
    found = {t.name: t for t in templates.list_templates(db) if not t.problem and t.kind in registry()}
    if not found or read_only("creating a strategy"):
        return False
    chosen = st.segmented_control("Start from", [BLANK, *(_from_template(n) for n in found)], default=BLANK,
                                  key=START, required=True) or BLANK
    if chosen == BLANK:
        return False
    template = found[chosen.removeprefix("Template: ")]
    st.caption(f"Template **{text.markdown(template.name)}**: a {text.markdown(registry()[template.kind].title)} "
               f"strategy ({text.markdown(template.kind)}) with its params below; choose its markets and a name. It "
               "is an ordinary strategy once created (the template stays as it is, and never trades).")
    result = strategy_form(db, kind=template.kind, params=dict(template.params), markets=[],
                           prefix=f"strategy_tpl_{template.name}_v{template.version}", submit_label="Create strategy",
                           extra=_name_fields, extra_errors=_name_errors(existing))
    if result is None:
        return True
    name = result.extra["name"].strip()
    try:
        saved = config.create_strategy(db, name=name, kind=template.kind, params=result.params,
                                       markets=result.markets, enabled=result.extra["enabled"], actor=actor())
    except config.ConfigError as exc:
        st.error(f"Not created: {text.markdown(exc)}.")
        return True
    st.session_state[PICK_NEXT] = name
    off = "" if result.extra["enabled"] else " It is off: it places nothing until you press Enable (below)."
    saved_then_reload(db, saved.reload_command_id, flash=f"Strategy {text.markdown(name)} created from template "
                                                         f"{text.markdown(template.name)}.{off}",
                      label="The engine's reload of the configuration", near=PICK, holds=name)
    return True


def save_as_template(db: Database, strategy: str) -> None:
    """Under a strategy's settings: its kind and params saved as a named template."""
    why_not = may_not(Scope.DESK)
    if read_only("saving it as a template"):
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = left.text_input("Save its kind and params as a template named", key=T_SAVE_NAME,
                           placeholder=f"e.g. {strategy}-template", max_chars=config.NAME_CHARS)
    if right.button("Save as template", key=T_SAVE, icon=":material/bookmark_add:", disabled=why_not is not None,
                    help=why_not or "A template never trades: new strategies start from it (its markets stay with "
                                    "this strategy)"):
        try:
            saved = templates.save_strategy_as_template(db, strategy=strategy, name=name, actor=actor())
        except config.ConfigError as exc:
            st.error(f"Not saved: {text.markdown(exc)}.", icon=":material/block:")
        else:
            st.session_state.pop(T_SAVE_NAME, None)
            st.session_state[f"{T_SAVE}flash"] = (f"Saved template {text.markdown(saved.name)} "
                                                  f"({text.markdown(saved.kind)}): choose it under “Start from” when "
                                                  "you create a strategy.")
            st.rerun()
    flash(near=T_SAVE)


def templates_panel(db: Database) -> None:
    """Every template, and rename or delete one (each audited)."""
    found = templates.list_templates(db)
    if not found:
        st.caption("No templates yet: save a strategy as one from its Settings tab (or python -m engine templates "
                   "save <strategy> <name>).")
        flash(near=T_SAID)
        return
    frame = pd.DataFrame([{"name": t.name, "kind": t.kind, "params": t.problem or json.dumps(t.params, sort_keys=True),
                           "updated_at": utc(t.updated_at), "updated_by": t.updated_by} for t in found],
                         columns=list(COLUMNS))
    show_table(frame, COLUMNS, key="strategy_templates")
    flash(near=T_SAID)
    if read_only("strategy templates"):
        return
    why_not = may_not(Scope.DESK)
    by_name = {t.name: t for t in found}
    pick = st.selectbox("Rename or delete a template", list(by_name), key=T_PICK)
    chosen = by_name[pick]
    left, right = st.columns(2, vertical_alignment="bottom")
    new_name = left.text_input("New name", key=T_NEW_NAME, max_chars=config.NAME_CHARS)
    if right.button("Rename", key=T_RENAME, icon=":material/edit:", disabled=why_not is not None,
                    help=why_not):
        _write(lambda: templates.rename_template(db, name=chosen.name, new_name=new_name, version=chosen.version,
                                                 actor=actor()),
               f"Renamed template {text.markdown(chosen.name)} to {text.markdown(new_name.strip())}.")
    sure = left.checkbox("Delete it (the strategies created with it stay as they are)", key=T_DELETE_OK)
    if right.button("Delete", key=T_DELETE, icon=":material/delete:", disabled=why_not is not None or not sure,
                    help=why_not):
        _write(lambda: templates.delete_template(db, name=chosen.name, version=chosen.version, actor=actor()),
               f"Deleted template {text.markdown(chosen.name)}.")


def _write(write: Callable[[], object], said: str) -> None:
    try:
        write()
    except config.ConfigError as exc:
        st.error(f"Not changed: {text.markdown(exc)}.", icon=":material/block:")
        return
    for key in (T_PICK, T_NEW_NAME, T_DELETE_OK):
        st.session_state.pop(key, None)
    st.session_state[f"{T_SAID}flash"] = said
    st.rerun()
