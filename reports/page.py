"""One self-contained HTML page: our own small template around plotly's HTML output for each
chart (plotly.js inlined once, so the file opens offline, years later) and the styled tables
of charts/tables.py (hover text for cut names included).

A report is a title, a line of facts and sections; a section holds blocks, each a paragraph,
a grid of metrics, a chart or a table.

The page is a file a trader opens from disk and shares, and much of its text came from outside
(market questions from the venue or an imported session, run names, notes): every such text is
escaped where it is written (charts/text.py), and the page carries a Content-Security-Policy
that runs only the scripts written here (each inline script allowed by its SHA-256: plotly.js
and each chart's call) and loads nothing from anywhere, so a text that slipped through
escaping still could not run or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from charts.tables import Col, styled

# Charts draw at the page's width; their own height is kept. The mode bar would float over titles
# and legends (zoom and pan still work with the mouse; double-click resets).
CHART_CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True}
STYLE = """
body { font-family: "Source Sans Pro", "Segoe UI", Helvetica, Arial, sans-serif; color: #31333f; margin: 0;
       background: #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 1.9rem; margin: 0 0 4px; } h2 { font-size: 1.3rem; margin: 32px 0 8px; }
.facts, .note { color: #6b6d76; font-size: 0.9rem; } .note { margin: 4px 0 12px; }
.warning { background: #fff8e6; border-left: 4px solid #ef6c00; padding: 8px 12px; margin: 8px 0; }
.metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px 24px; }
.metric .label { color: #6b6d76; font-size: 0.85rem; } .metric .value { font-size: 1.4rem; }
.table-wrap { overflow-x: auto; max-height: 560px; overflow-y: auto; border-top: 1px solid #e6e6ea; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th { position: sticky; top: 0; background: #fafafa; text-align: left; font-weight: 600; color: #6b6d76;
     border-bottom: 1px solid #e6e6ea; z-index: 2; }
th, td { padding: 4px 8px; } td { border-bottom: 1px solid #f0f0f2; white-space: nowrap; }
footer { color: #9e9e9e; font-size: 0.8rem; margin-top: 40px; }
"""


@dataclass(frozen=True)
class Block:
    kind: str  # "text", "warning", "metrics", "chart", "table"
    content: Any


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)

    def text(self, value: str) -> Section:
        self.blocks.append(Block("text", value))
        return self

    def warning(self, value: str) -> Section:
        self.blocks.append(Block("warning", value))
        return self

    def metrics(self, rows: list[tuple[str, str, str]]) -> Section:
        """(label, value, explanation) per metric."""
        self.blocks.append(Block("metrics", rows))
        return self

    def chart(self, figure: go.Figure) -> Section:
        self.blocks.append(Block("chart", figure))
        return self

    def table(self, frame: pd.DataFrame, columns: dict[str, Col], note: str = "") -> Section:
        """`frame`'s `columns` as charts/tables.py draws them (its text escaped for HTML), and a
        line above it."""
        self.blocks.append(Block("table", (frame, columns, note)))
        return self


def _block(block: Block, n: int) -> str:
    if block.kind == "text":
        return f'<p class="note">{html.escape(block.content)}</p>'
    if block.kind == "warning":
        return f'<p class="warning">{html.escape(block.content)}</p>'
    if block.kind == "metrics":
        cells = "".join(f'<div class="metric" title="{html.escape(explain)}"><div class="label">'
                        f'{html.escape(label)}</div><div class="value">{html.escape(value)}</div></div>'
                        for label, value, explain in block.content)
        return f'<div class="metrics">{cells}</div>'
    if block.kind == "chart":
        # A fixed element id per chart keeps the same report byte for byte the same.
        return pio.to_html(_room_for_labels(block.content), full_html=False, include_plotlyjs=False,
                           config=CHART_CONFIG, div_id=f"chart-{n}")
    frame, columns, note = block.content
    line = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'{line}<div class="table-wrap">{styled(frame, columns, markup="html").to_html()}</div>'


def _room_for_labels(figure: go.Figure) -> go.Figure:
    """A copy whose margins grow to hold its tick labels and axis titles: the charts' narrow
    margins suit the dashboard, whose plotly theme makes that room itself, but plotly's own
    default (the report's) cuts the labels at the figure's edge."""
    return go.Figure(figure).update_xaxes(automargin=True).update_yaxes(automargin=True)


def render(title: str, facts: str, sections: list[Section], *, made_at: datetime | None = None) -> str:
    """The whole page as one string."""
    made = (made_at or datetime.now(tz=UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    plotly_js = get_plotlyjs()
    ours, parts, n = [plotly_js], [], 0
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.heading)}</h2>")
        for block in section.blocks:
            n += 1
            part = _block(block, n)
            if block.kind == "chart":  # plotly's own markup: its scripts are the page's
                ours += _SCRIPT.findall(part)
            parts.append(part)
        parts.append("</section>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{policy(ours)}\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style><script>{plotly_js}</script></head><body><main>"
        f"<h1>{html.escape(title)}</h1><p class=\"facts\">{html.escape(facts)}</p>{''.join(parts)}"
        f"<footer>Made {made} by the Polymarket desk. Times are UTC; prices are probabilities; money in pUSD."
        "</footer></main></body></html>\n"
    )


# A script element of plotly's chart markup (its data is JSON with "<" escaped: it holds no other).
_SCRIPT = re.compile(r"<script(?:\s[^>]*)?>(.*?)</script>", re.DOTALL)


def policy(scripts: list[str]) -> str:
    """The page's Content-Security-Policy: the scripts written here (plotly.js and each chart's
    call), each allowed by its SHA-256, and no other; nothing fetched, framed, posted or
    plugged in. Inline styles stay allowed: plotly.js styles what it draws, and a style can load
    nothing here (no source is allowed for images, fonts or anything else but data:)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
                      for body in dict.fromkeys(scripts))
    return (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data: blob:; "
            "font-src data:; base-uri 'none'; form-action 'none'")
