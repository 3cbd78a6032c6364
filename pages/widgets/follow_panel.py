"""Followed wallets on the Strategies page: the list to edit (address, label, on), saved through
the one configuration writer (validated again and audited), and each wallet with what copying
its trades at its own size would have earned since the desk began following it."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from contracts.followed_wallets import MAX_WALLETS
from pages.widgets.common import actor, flash, read_only, time_column
from pages.widgets.controls import saved_then_reload
from storage.dashboard_queries import follow_queries
from storage.dashboard_queries import status_queries as queries
from storage.desk import config
from storage.sqlite.db import Database

FOLLOW_TABLE, FOLLOW_SAVE = "follow_table_edit", "follow_save"
EDIT_COLUMNS: dict[str, Any] = {
    "label": st.column_config.TextColumn("label", required=True, max_chars=40,
                                         help="1 to 40 lower-case letters, digits, '_', '.' or '-'"),
    "address": st.column_config.TextColumn("wallet address", required=True, width="large",
                                           help="The proxy wallet its Polymarket profile shows (0x and 40 hex)"),
    "enabled": st.column_config.CheckboxColumn("on", default=True),
}
SHOWN: dict[str, Any] = {
    "label": "wallet", "trades": "trades since followed", "volume": st.column_config.NumberColumn(
        "their volume (pUSD)", format="%.2f"),
    "earned": st.column_config.NumberColumn("following at their size (pUSD)", format="%+.2f",
                                            help="Each trade marked at what its token paid, or its latest "
                                                 "recorded mid; trades with neither are left out (unmarked)"),
    "unmarked": "unmarked",
    "heard_after_s": st.column_config.NumberColumn("heard after (s)", format="%.1f",
                                                   help="Median time from the venue's report of a trade to the desk "
                                                        "keeping it, over the trades its stream brought"),
    "last_at": time_column("last trade"),
}


def follow_panel(db: Database) -> None:
    st.subheader("Followed wallets")
    row = queries.engine_settings(db).get("followed_wallets")
    stored = row["value"] if row and isinstance(row["value"], list) else []
    st.caption("Polymarket wallets whose public trades the engine hears on the venue's real-time trade stream as "
               "they happen (the Data API reconciles every 15 s); a "
               "copy_trading strategy copies them in its own markets, scaled, delayed and capped by its params, "
               f"through the risk gate. What they did before being followed is not copied. At most {MAX_WALLETS}.")
    if read_only("the followed wallets"):
        edited = None
    else:
        edited = st.data_editor(pd.DataFrame(stored, columns=list(EDIT_COLUMNS)), num_rows="dynamic",
                                hide_index=True, key=FOLLOW_TABLE, column_config=EDIT_COLUMNS,
                                column_order=list(EDIT_COLUMNS), width="stretch", placeholder="—")
    if edited is not None and st.button("Save followed wallets", key=FOLLOW_SAVE, icon=":material/save:"):
        _save(db, edited, row["version"] if row else None)
    flash(near=FOLLOW_SAVE)
    if stored:
        st.dataframe(follow_queries.followed(db, stored)[list(SHOWN)], hide_index=True, column_config=SHOWN,
                     key="follow_table", placeholder="—")


def _save(db: Database, edited: pd.DataFrame, version: int | None) -> None:
    wallets = [{"address": str(r.get("address") or "").strip(), "label": str(r.get("label") or "").strip(),
                "enabled": True if r.get("enabled") is None or r.get("enabled") != r.get("enabled")
                else bool(r.get("enabled"))}
               for r in edited.to_dict("records") if any(str(v or "").strip() for v in (r.get("address"),
                                                                                       r.get("label")))]
    try:
        saved = config.save_setting(db, key="followed_wallets", value=json.dumps(wallets), version=version,
                                    actor=actor())
    except config.ConfigError as exc:
        st.error(f"Nothing saved: {text.markdown(exc)}", icon=":material/block:")
        return
    saved_then_reload(db, saved.reload_command_id, flash="Followed wallets saved.", label="Reload followed wallets",
                      near=FOLLOW_SAVE)
