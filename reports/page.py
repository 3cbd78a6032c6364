"""One self-contained HTML page: our own small template around plotly's HTML output for each
chart (plotly.js inlined once, so the file opens offline, years later) and the styled tables
of charts/tables.py (hover text for cut names included).

A report is a title, a line of facts and sections; a section holds blocks, each a paragraph,
a grid of metrics, a chart or a table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

# Charts draw at the page's width; their own height is kept.
CHART_CONFIG = {"displaylogo": False, "responsive": True}
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

    def table(self, styler: Any, note: str = "") -> Section:
        """A pandas Styler (charts.tables.styled), and a line above it."""
        self.blocks.append(Block("table", (styler, note)))
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
        return pio.to_html(block.content, full_html=False, include_plotlyjs=False, config=CHART_CONFIG,
                           div_id=f"chart-{n}")
    styler, note = block.content
    line = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'{line}<div class="table-wrap">{styler.to_html()}</div>'


def render(title: str, facts: str, sections: list[Section], *, made_at: datetime | None = None) -> str:
    """The whole page as one string."""
    made = (made_at or datetime.now(tz=UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts, n = [], 0
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.heading)}</h2>")
        for block in section.blocks:
            n += 1
            parts.append(_block(block, n))
        parts.append("</section>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body><main>"
        f"<h1>{html.escape(title)}</h1><p class=\"facts\">{html.escape(facts)}</p>{''.join(parts)}"
        f"<footer>Made {made} by the Polymarket desk. Times are UTC; prices are probabilities; money in USDC."
        "</footer></main></body></html>\n"
    )
