"""Drawing the read-only tables of charts/tables.py on a page (st.table: HTML the page wraps to
its width, with the hover text of cut names; Streamlit draws each cell as Markdown, so the
cells' text is made literal Markdown)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.tables import Col, styled


def show_table(frame: pd.DataFrame, columns: dict[str, Col], *, height: int | None = None) -> None:
    """Render `frame`'s `columns`; `height` (px) scrolls a long table under a sticky header."""
    st.table(styled(frame, columns, markup="markdown"), height=height if height is not None else "content",
             border="horizontal")


def rows_height(rows: int, *, most: int = 420) -> int | None:
    """A scroll height for a table of `rows` rows: None (all of it) while it is short."""
    return None if rows <= 12 else most
