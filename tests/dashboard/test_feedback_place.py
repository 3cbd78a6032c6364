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


# -- each answer beside the control that caused it, and only while it holds (issue 73 item 3) -------


def _successes(at: AppTest) -> list[str]:
    return [as_read(s.value) for s in at.success]


def test_a_created_strategy_is_said_under_the_picker_and_on_no_other_page(seeded: int, db: Database,
                                                                          page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
    at.selectbox(key="strategy_new_kind").set_value("value_betting").run()
    prefix = "strategy_new_value_betting"
    at.segmented_control(key=f"{prefix}_mkmode").set_value("Filter").run()
    at.text_input(key=f"{prefix}_f_text").input("bitcoin")
    at.text_input(key="strategy_new_name").input("my-vb")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and at.selectbox(key="strategy_pick").value == "my-vb"
    said = _place(at, _said("Strategy my-vb created"))
    picker = _place(at, lambda e: getattr(e, "type", "") == "selectbox" and e.key == "strategy_pick")
    assert 0 < said - picker <= 3, (picker, said)  # right under the picker that now shows it
    at.switch_page("pages/overview.py").run()
    assert not any("created" in s for s in _successes(at))  # not under the Overview's Start/Kill row
    at.switch_page("pages/strategies.py").run()
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert not any("my-vb created" in s for s in _successes(at))  # no longer what the picker shows: gone


def test_a_strategys_answer_stays_with_that_strategy_while_it_holds(seeded: int, db: Database,
                                                                     page: Callable[[str], AppTest]) -> None:
    from sqlalchemy import text

    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    at.button(key="strategy_pause").click().run()
    assert any("mm-btc paused" in s for s in _successes(at))
    at.selectbox(key="strategy_pick").set_value("vb-election").run()
    assert not any("paused" in s for s in _successes(at))  # not under another strategy's buttons
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert any("mm-btc paused" in s for s in _successes(at))  # its own, still true
    with db.write() as conn:  # resumed elsewhere (another tab, the bot): a new version
        conn.execute(text("UPDATE strategies SET paused = 0, version = version + 1 WHERE name = 'mm-btc'"))
    at.run()
    assert not any("mm-btc paused" in s for s in _successes(at))  # no longer true: gone


def _engine_that_stops(db: Database) -> None:
    """Plays the engine's part for one Stop: it stops (state and desired state) and answers done."""
    from tests.dashboard.conftest import answer_next

    answer_next(db, "stop", ok=True, then="UPDATE engine_state SET state = 'STOPPED', desired_state = 'STOPPED'")


def test_an_engine_controls_answer_goes_once_the_engine_has_moved_on(seeded: int, db: Database,
                                                                      page: Callable[[str], AppTest]) -> None:
    from sqlalchemy import text

    from tests.dashboard.conftest import engine_up

    engine_up(db)
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET desired_state = 'RUNNING', kill_latched = 0"))
    at = page("overview")
    _engine_that_stops(db)
    at.button(key="btn_stop").click().run()
    assert any("Stop: done" in s for s in _successes(at))
    at.run()
    assert any("Stop: done" in s for s in _successes(at))  # kept while the engine stays stopped
    engine_up(db)  # started again elsewhere (the CLI, the bot)
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET desired_state = 'RUNNING'"))
    at.run()
    assert not any("Stop: done" in s for s in _successes(at))  # no longer true: gone
