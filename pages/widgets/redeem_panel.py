"""Overview's Redeemable panel: cash apart from what the venue still owes, and the Redeem button.

A resolved winning position (or merged YES+NO sets) is owed by the venue until it pays: the
panel lists those claims by market with the state of the last redeem sent, and the Redeem
button (confirmed in a dialog, audited as a command) asks the engine to collect them now.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.widgets.common import flash, read_only, time_column, usdc, usdc_column
from pages.widgets.dialogs import open_dialog
from storage.dashboard_queries import collection_queries
from storage.sqlite.db import Database

REDEEM_BUTTON, REDEEM_TABLE = "btn_redeem", "redeemable_table"


def redeemable_panel(db: Database, mode: str) -> None:
    money, owed = collection_queries.for_dashboard(db, mode)
    cols = st.columns(4)
    cols[0].metric("Cash (pUSD)", usdc(money["cash_usdc"]), help="What the venue has paid: fills, redemptions, "
                                                                 "merges and rebates it reported")
    cols[1].metric("Redeemable (pUSD)", usdc(money["redeemable_usdc"]),
                   help="Owed by the venue for resolved winning positions and merges, not cash until it pays")
    cols[2].metric("Redeemed so far (pUSD)", usdc(money["redeemed_usdc"] + money["merged_usdc"]))
    cols[3].metric("Maker rebates (pUSD)", usdc(money["rebates_usdc"]), help="Paid daily by the venue")
    flash(near=REDEEM_BUTTON)  # the redeem's answer, here where it was asked for
    if not owed:
        st.caption("Nothing redeemable: a resolved winning position shows here until the venue pays it.")
        return
    frame = pd.DataFrame(owed)
    frame["last_tx"] = frame["last_tx"].fillna("not sent yet")
    st.dataframe(frame[["question", "kind", "owed_usdc", "since", "strategies", "last_tx"]], hide_index=True,
                 key=REDEEM_TABLE, column_config={"owed_usdc": usdc_column("owed"), "since": time_column("owed since"),
                                                  "last_tx": "last transaction"}, placeholder="—")
    if read_only("redeeming"):
        return
    if st.button("Redeem now", key=REDEEM_BUTTON, icon=":material/savings:"):
        open_dialog("redeem", near=REDEEM_BUTTON, owed=money["redeemable_usdc"],
                    markets=len({o["condition_id"] for o in owed if o["kind"] == "redeem"}))
        st.rerun(scope="app")
