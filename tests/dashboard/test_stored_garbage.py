"""A stored value no page wrote (a script, an old version, a hand edit): deeply nested JSON, or
not JSON at all. Every page that reads one says what is wrong with it in words and renders the
rest; none crashes (a 100 000-deep list once raised an uncaught RecursionError), and the value
can be fixed from the page."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with

DEEP = "[" * 30_000 + "]" * 30_000  # within the 64 KB bound of a configuration value: refused for its depth
GARBAGE = {"deep": DEEP, "deep and huge": "[" * 100_000 + "]" * 100_000, "not JSON": "{not json"}
REASONS = ("nested too deeply", "too large", "not valid JSON")  # what the page says, in words


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _store(db: Database, sql: str, value: str) -> None:
    with db.write() as conn:
        conn.execute(text(sql), {"v": value})


@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
def test_settings_page_names_a_bad_stored_setting_and_fixes_it(
    garbage: str, seeded: int, db: Database, page: Callable[[str], AppTest]
) -> None:
    _store(db, "UPDATE settings SET value = :v WHERE key = 'venue_sync_s'", garbage)
    at = page("settings")
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("Venue order sync interval" in e and "do not validate" in e and any(r in e for r in REASONS)
               for e in errors), errors
    assert at.text_input(key="setting_tick_interval_ms_v1").value == "500"  # the rest of the form is there
    field = at.text_input(key="setting_venue_sync_s_v1")
    assert len(field.value or "") <= 300  # a preview of what is stored, never 200 KB in a text box
    field.input("7")
    at.button(key="setting_save").click().run()
    assert not at.exception
    assert _rows(db, "SELECT value, version FROM settings WHERE key = 'venue_sync_s'") == [("7", 2)]
    before = _rows(db, "SELECT before FROM audit_log WHERE action = 'setting.update'")[0][0]
    assert len(before) <= 1_000  # the audit keeps a preview of the bad value, not the whole of it


@pytest.mark.parametrize("column", ["params", "markets"])
@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
def test_strategies_page_names_a_bad_stored_strategy_and_fixes_it(
    garbage: str, column: str, seeded: int, db: Database, page: Callable[[str], AppTest]
) -> None:
    _store(db, f"UPDATE strategies SET {column} = :v WHERE name = 'mm-btc'", garbage)
    at = page("strategies")
    assert not at.exception
    at.toggle(key="cols_strategies").set_value(True).run()  # every column: the markets too
    table = table_with(at, "kind_words").set_index("name")
    assert table.loc["vb-election", "kind_words"] == "value betting"  # the other strategy is listed as ever
    if column == "markets":
        assert table.loc["mm-btc", "markets"].startswith("invalid")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(f"stored {column}" in e and any(r in e for r in REASONS) for e in errors), errors


def test_a_bad_stored_strategy_can_be_saved_over(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    _store(db, "UPDATE strategies SET params = :v WHERE name = 'mm-btc'", DEEP)
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    submit = next(b for b in at.button if b.label == "Save changes")
    submit.click().run()
    assert not at.exception
    (params,) = _rows(db, "SELECT params FROM strategies WHERE name = 'mm-btc'")[0]
    assert isinstance(json.loads(params), dict)  # the kind's defaults, validated, replace the bad value


@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
def test_audit_page_shows_a_bad_stored_document_as_text(
    garbage: str, seeded: int, db: Database, page: Callable[[str], AppTest]
) -> None:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO audit_log (at, actor, action, entity, before, after)
                             VALUES (1, 'script', 'setting.update', 'settings:x', :b, '{"value": 5}')"""),
                     {"b": garbage})
    at = page("audit")
    assert not at.exception
    at.selectbox(key="audit_action").set_value("setting.update").run()
    assert not at.exception
    diff = table_with(at, "change").set_index("field")
    assert diff.loc["value", "after"] == "5"
    shown = " ".join(str(v) for v in diff["before"])
    assert "not readable" in shown and len(shown) < 1_000, shown[:300]
