"""The tax-lot export on the Orders page: one year's realized gains per lot, both venues, as the CSV
`python -m engine tax-lots` writes (reports/tax_lots.py), built only when downloaded."""

from __future__ import annotations

import streamlit as st

from reports.tax_lots import csv_bytes, tax_export
from storage.desk.tax_history import fill_years
from storage.sqlite.db import Database

TAX_YEAR, TAX_MODE, TAX_CSV = "tax_year", "tax_mode", "tax_csv"
RULE = ("Lots are matched **first in, first out** per token and ledger (the strategies share one account); fees "
        "included (a purchase's in its basis, a sale's taken off its proceeds). A disposition is a sale, a "
        "resolution (on the day the market resolved, at its payout: a losing side's proceeds are 0), a merge or "
        "a venue's net of YES with NO, or a voided market's refund; rebates and rewards are income, not in it. "
        "Exact in micro-units, shown in dollars with two decimals, the cents carried so that a sale's rows add up "
        "to what it paid and a lot's to what it cost; UTC dates. Safe to open in a spreadsheet: a cell that could "
        "read as a formula is marked as text ('), the amounts stay numbers. Check it with your tax adviser.")


def tax_lots_panel(db: Database) -> None:
    cols = st.columns([1, 1, 2], vertical_alignment="bottom")
    mode = cols[1].selectbox("Ledgers", ["live", "paper"], key=TAX_MODE,
                             help="Live: the real accounts (paper trading is no taxable event)")
    years = fill_years(db, mode or "live")
    if not years:
        cols[0].selectbox("Tax year (UTC)", ["—"], key=TAX_YEAR, disabled=True)
        st.caption(f"No {mode} fills yet: nothing to export.")
        return
    year = cols[0].selectbox("Tax year (UTC)", years, key=TAX_YEAR)
    cols[2].download_button(
        "Form 8949 lots (CSV)",
        data=lambda: csv_bytes(tax_export(db, int(year), mode or "live")),
        file_name=f"tax-lots-{year}-{mode}.csv",
        mime="text/csv",
        key=TAX_CSV,
        icon=":material/download:",
        help="Description, date acquired, date sold, proceeds, cost basis, gain or (loss), then the term, "
             "disposition, venue, shares, market and token of each lot",
    )
    st.caption(RULE)
