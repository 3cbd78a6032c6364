"""How the read-only tables read (charts/tables.py): — for nothing (never "None"), a long
name cut with its full text on hover, units in the headers, a resting order not called LIVE;
and audit payloads without JSON escaped inside JSON."""

from __future__ import annotations

import json

import pandas as pd

from charts.tables import NAME_CHARS, Col, order_status_words, styled
from charts.text import css_string
from pages.widgets.common import plural
from pages.widgets.diff import readable_payload

LONG = "Will Erling Haaland break the Premier League goals record in the 22/23 season? (34 goals)"
COLUMNS = {"question": Col("market", "name"), "price": Col("price", "prob"), "fee": Col("fee", "usdc"),
           "error": Col("error", "long"), "acked_at": Col("acknowledged", "time"), "acked_by": Col("by")}


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"question": [LONG, "Short?"], "price": [0.5, None], "fee": [0.0123, 1234.5],
                         "error": [None, "x"], "acked_at": [pd.NaT, pd.Timestamp("2026-11-23 10:00", tz="UTC")],
                         "acked_by": [None, "dashboard"]})


def test_nothing_reads_as_a_dash_never_none() -> None:
    html = styled(_frame(), COLUMNS, markup="html").to_html()
    assert "None" not in html and "NaT" not in html and "nan" not in html
    assert html.count(">—<") == 4  # price, error, acknowledged and by of the first row


def test_a_long_name_is_cut_and_whole_on_hover() -> None:
    styler = styled(_frame(), COLUMNS, markup="html")
    html = styler.to_html()
    cut = LONG[: NAME_CHARS - 1].rstrip() + "…"
    assert f">{cut}<" in html and f'content: "{css_string(LONG)}"' in html  # the hover box holds it whole
    assert 'content: "Short?"' not in html  # nothing to reveal on a name that fits
    assert list(styler.data.columns) == ["market", "price (prob.)", "fee (pUSD)", "error", "acknowledged (UTC)", "by"]
    assert ">0.5000<" in html and ">1,234.50<" in html and ">2026-11-23 10:00:00<" in html


def test_a_resting_order_is_not_called_live() -> None:
    words = order_status_words(pd.Series(["LIVE", "FILLED", "PARTIALLY_FILLED", None]))
    assert list(words[:3]) == ["RESTING", "FILLED", "PARTLY FILLED"] and pd.isna(words[3])


def test_audit_payloads_read_without_escaped_json() -> None:
    stored = json.dumps({"value": json.dumps({"on": ["KILLED", "DAILY_LOSS"]}), "n": 2})
    assert "\\\"" in stored  # as written: JSON text inside JSON
    assert readable_payload(stored) == '{"value": {"on": ["KILLED", "DAILY_LOSS"]}, "n": 2}'
    assert readable_payload(None) is None
    assert readable_payload('{"note": "{not json"}') == '{"note": "{not json"}'


def test_counts_read_in_the_right_number() -> None:
    assert plural(1, "alert") == "1 alert" and plural(2, "alert") == "2 alerts"
    assert plural(1, "worker") == "1 worker" and plural(1_200, "query", "queries") == "1,200 queries"



def test_an_id_written_as_code_shows_as_written() -> None:
    """A code span reads no escapes, so an id written as code is fenced, not backslash-escaped (the pair
    panel showed a Kalshi ticker with a backslash before each dash); a backtick inside takes a longer
    fence. No page writes Markdown-escaped text inside backticks."""
    import re

    from charts.text import code_span
    from tests.helpers import ROOT

    assert code_span("KXSIM-26DEC28-T1") == "`KXSIM-26DEC28-T1`"
    assert code_span("a`b") == "``a`b``" and code_span("`x") == "`` `x ``"
    escaped_in_code = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "pages").rglob("*.py")
                       for n, line in enumerate(path.read_text().splitlines(), 1)
                       if re.search(r"`\{text\.markdown\(", line)]
    assert escaped_in_code == []


def test_the_market_list_fits_and_does_not_fade_its_names() -> None:
    """Streamlit draws a pinned column's text faded, as if disabled: the market list pins none; and the
    columns it shows until asked for every one fit a 1366 px page (the browser walk measures it)."""
    from pages.widgets.market_panels import LEADING, SCAN_COLUMNS

    assert not [name for name, column in SCAN_COLUMNS.items() if column.get("pinned")]
    assert LEADING[0] == "question" and LEADING[-1] == "end_at"
    widths = [SCAN_COLUMNS[name]["width"] for name in LEADING]
    assert all(isinstance(w, int) for w in widths) and sum(w for w in widths if isinstance(w, int)) <= 860  # 894 px
    # less its row marker
