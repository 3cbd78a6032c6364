"""Where an answer lands and where the operator is left, as the browser shows it: the answer an
action at a control kept (`flash(near=...)`, drawn in `.st-key-said_<near>`) lies inside the window
right after the action, and the tab the operator was on is still the one selected."""

from __future__ import annotations

import json

from tests.browser.cdp import Page

# The answer box of one control: its text and whether it lies wholly inside the window.
_SAID = """((near) => {
  const box = document.querySelector(`.st-key-said_${near}`);
  if (!box) return {found: false, text: '', inView: false};
  const r = box.getBoundingClientRect();
  // (a box folded away, in a closed expander, has no size: not in view, though its empty box lies inside)
  return {found: true, text: box.innerText, box: [r.top, r.bottom, r.left, r.right].map(Math.round),
          window: [window.innerWidth, window.innerHeight], inView: r.height > 0 && r.width > 0
          && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth};
})"""
SELECTED_TAB = "([...document.querySelectorAll('[role=tab][aria-selected=true]')].map(t => t.innerText.trim()))"


IN_VIEW_S = 5  # once said, an answer drawn out of sight is brought into view by the page within this


async def answer_in_view(page: Page, near: str, words: str, what: str) -> str:
    """Wait for the answer of the control `near` to say `words`; it must be in the window, as the
    action left it or as the page brought it (nothing scrolled by the test), within moments. Returns its text."""
    look = f"{_SAID}({json.dumps(near)})"
    said = await page.wait_for(look, 30, what=what, check=lambda s: s["found"] and words in s["text"])
    try:
        said = await page.wait_for(look, IN_VIEW_S, what=what, check=lambda s: s["found"] and s["inView"])
    except AssertionError:
        said = await page.evaluate(look)
        raise AssertionError(f"{what}: the answer is outside the window (nothing visible where the user clicked): "
                             f"its box {said['box']} (top, bottom, left, right), the window {said['window']}") from None
    return str(said["text"])


async def selected_tabs(page: Page) -> list[str]:
    return list(await page.evaluate(SELECTED_TAB))
