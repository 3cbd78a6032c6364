"""Strategy templates on the Strategies page, as a trader uses them: a strategy saved as a template from its
Settings tab; a new strategy started from it (its params in the form, its markets picked, created off and
paper only); the template renamed and deleted from the templates list, each audited; and an operator held
to one venue is refused (the writer checks, whatever the page shows)."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.desk import dashboard_users
from storage.sqlite.db import Database
from tests.dashboard.reading import as_read


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _said(at: AppTest) -> str:
    return "\n".join(as_read(e.value) for kind in ("success", "error", "warning") for e in getattr(at, kind))


def test_save_as_template_create_from_it_rename_and_delete(seeded: int, db: Database,
                                                           page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    at.text_input(key="template_save_name").input("tight mm")
    at.button(key="template_save").click().run()
    assert not at.exception and "Saved template tight mm (market_making)" in _said(at), _said(at)
    params = json.loads(_rows(db, "SELECT params FROM strategies WHERE name = 'mm-btc'")[0][0])
    assert [(n, k, json.loads(p)) for n, k, p in _rows(db, "SELECT name, kind, params FROM strategy_templates")] == \
        [("tight mm", "market_making", params)]

    at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
    at.segmented_control(key="strategy_new_start").set_value("Template: tight mm").run()
    prefix = "strategy_tpl_tight mm_v1"
    assert at.text_input(key=f"{prefix}_p_size").value == str(params["size"])  # the template's params, to start
    at.segmented_control(key=f"{prefix}_mkmode").set_value("Filter").run()
    at.text_input(key=f"{prefix}_f_text").input("bitcoin")
    at.text_input(key="strategy_new_name").input("mm-from-template")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and not at.error, _said(at)
    ((kind, stored, markets, enabled, live),) = _rows(
        db, "SELECT kind, params, markets, enabled, live FROM strategies WHERE name = 'mm-from-template'")
    assert (kind, enabled, live) == ("market_making", 0, 0)  # off and paper only, as every new strategy
    assert json.loads(stored).items() >= params.items()  # the template's params (the form fills in the rest)
    assert json.loads(markets)["filter"]["text"] == "bitcoin"
    assert at.selectbox(key="strategy_pick").value == "mm-from-template"

    at.text_input(key="template_new_name").input("wide mm")
    at.button(key="template_rename").click().run()
    assert "Renamed template tight mm to wide mm." in _said(at)
    at.checkbox(key="template_delete_ok").check().run()
    at.button(key="template_delete").click().run()
    assert "Deleted template wide mm." in _said(at)
    assert _rows(db, "SELECT COUNT(*) FROM strategy_templates") == [(0,)]
    assert [a for (a,) in _rows(db, "SELECT action FROM audit_log WHERE action LIKE 'template.%' ORDER BY id")] == [
        "template.save", "template.rename", "template.delete"]


def test_an_operator_of_one_venue_is_not_offered_saving_a_template(seeded: int, db: Database) -> None:
    """Templates are the whole desk's configuration (the writer refuses such an operator too:
    tests/storage/test_strategy_templates.py)."""
    from tests.dashboard.test_roles import PASSWORD, _login

    dashboard_users.add_user(db, name="kim", password=PASSWORD, role="operator", venue="kalshi", actor="test")
    at = _login("kim").switch_page("pages/strategies.py").run()
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    button = at.button(key="template_save")
    assert not at.exception and button.disabled and "Not yours to do" in str(button.help)
