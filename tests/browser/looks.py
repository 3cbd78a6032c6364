"""What the browser test reads off a page besides its tables (tests/browser/layout.py): number
tiles whose figure or label is cut, markets written as raw condition ids, a number typed into a
field as an operator types it; and the ticket's preview, whose five figures sit side by side."""

from __future__ import annotations

from tests.browser.cdp import Page
from tests.browser.layout import HEIGHT, TALL, WIDE, WIDTH
from tests.browser.navigation import click, settled

# Metrics whose value or label does not fit its box (cut off with an ellipsis), as label: value.
TRUNCATED = """[...new Set(
  [...document.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricLabel"]')]
  .flatMap(m => [m, ...m.querySelectorAll('*')])
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.closest('[data-testid="stMetric"]') || e).innerText.replace(/\\s+/g, ' ')))]"""
# A market's whole condition id written where a person reads (the pages name it by its question;
# its ids are in a box opened on demand).
RAW_IDS = "document.body.innerText.match(/0x[0-9a-fA-F]{64}/g) || []"
METRICS = "[...document.querySelectorAll('[data-testid=\"stMetric\"]')].map(m => m.innerText.replace(/\\s+/g, ' '))"


async def tiles_not_cut(page: Page, what: str) -> None:
    """No tile's figure or label is cut, at 1366 × 900 and at 1920 × 1080."""
    assert await page.evaluate(TRUNCATED) == [], f"{what}: tiles cut at {WIDTH} px"
    await page.viewport(WIDE, TALL)
    try:
        await page.wait_for("window.innerWidth", 10, what="the wide window", check=lambda w: w == WIDE)
        assert await page.evaluate(TRUNCATED) == [], f"{what}: tiles cut at {WIDE} px"
    finally:
        await page.viewport(WIDTH, HEIGHT)


async def type_number(page: Page, key: str, value: str, title: str) -> None:
    """Type `value` into the number field `key` and leave it (Streamlit takes it then)."""
    field = f"document.querySelector('.st-key-{key} input')"
    await page.wait_for(f"!!{field}", 20, what=f"the {key} field")
    await page.evaluate(f"(i => {{ i.scrollIntoView({{block: 'center'}}); i.focus(); i.select(); }})({field})")
    await page.type_text(value)
    await page.evaluate(f"{field}.blur()")
    await settled(page, title)


async def preview_a_ticket(page: Page) -> None:
    """A buy of 210 shares resting at 0.05 (far under any mid: nothing trades on arrival): its
    preview's five figures, none cut ("Paid 10.50 pU…" before the unit moved into the label)."""
    await type_number(page, "t_size", "210", "Markets")
    await type_number(page, "t_price", "0.05", "Markets")
    await click(page, ".st-key-t_preview button", "the ticket's Preview button")
    shown = await page.wait_for(METRICS, 30, what="the ticket's preview figures",
                                check=lambda m: any(t.startswith("Paid (pUSD)") for t in m))
    assert any(t.startswith("Paid (pUSD) 10.50") for t in shown), shown
    await tiles_not_cut(page, "the ticket's preview")
