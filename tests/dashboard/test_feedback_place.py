"""What a save did is said beside the button pressed, not at the top of a long page: on the Risk
page the confirmation comes right after the limits form's Save button, below the live panels;
likewise for the news feeds on the Settings page. Only once: the next run shows it no more."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.reading import as_read


def _in_order(node: Any) -> Iterator[Any]:
    """Every element of the page, in the order the page draws them."""
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for key in sorted(children):
            yield from _in_order(children[key])
    else:
        yield node


def _place(at: AppTest, found: Callable[[Any], bool]) -> int:
    drawn = list(_in_order(at.main))
    return next(i for i, e in enumerate(drawn) if found(e))


def _said(text: str) -> Callable[[Any], bool]:
    return lambda e: getattr(e, "type", "") == "success" and text in as_read(str(getattr(e, "value", "")))


def _is(kind: str, key: str) -> Callable[[Any], bool]:
    return lambda e: getattr(e, "type", "") == kind and getattr(e, "key", None) == key


def test_a_saved_limit_is_confirmed_under_the_forms_button(db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("risk")
    at.text_input(key="limit_max_daily_loss_v0").input("250")
    at.button(key="limit_save").click().run()
    assert not at.exception
    saved = _place(at, _said("Saved limits: max_daily_loss"))
    button = _place(at, _is("button", "limit_save"))
    heading = _place(at, lambda e: getattr(e, "type", "") == "subheader" and e.value == "Limits")
    assert heading < button < saved, (heading, button, saved)
    assert saved - button <= 3  # the engine's answer to the reload may sit between them
    at.run()  # kept until read: a refresh or another click leaves it where it is
    assert any("Saved limits" in as_read(s.value) for s in at.success)
    [close] = [b for b in at.button if str(b.key).startswith("said_") and str(b.key).endswith("_close")]
    close.click().run()
    assert not any("Saved limits" in as_read(s.value) for s in at.success)  # closed: read


def test_saved_news_feeds_are_confirmed_under_their_button(db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    at.session_state["news_feeds_table_edit"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"name": "wire", "url": "http://127.0.0.1:9/rss", "poll_s": 300, "enabled": True}]}
    at.session_state["news_rules_table_edit"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"feed": "wire", "signal": "x", "keywords": "rate cut", "market_ids": "0xfed", "value": 0.6, "ttl_s": 600}]}
    at.run()
    at.button(key="news_feeds_save").click().run()
    assert not at.exception
    saved = _place(at, _said("News feeds saved."))
    button = _place(at, _is("button", "news_feeds_save"))
    assert 0 < saved - button <= 3, (button, saved)
