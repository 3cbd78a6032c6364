"""Strategies page: the generated params form (valid save, each invalid field, concurrent change),
create, enable/disable, the markets filter, and operator fair values."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.params import ParamType
from engine.strategies.registry import registry
from storage.sqlite.db import Database
from tests.dashboard.conftest import answer_next, engine_up
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC, ELECTION

MM = "strategy_mm-btc_v1"


def _row(db: Database, name: str) -> dict:
    with db.read() as conn:
        row = conn.execute(text("SELECT * FROM strategies WHERE name = :n"), {"n": name}).mappings().first()
    return dict(row) if row else {}


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.fixture
def strategies(seeded: int, page: Callable[[str], AppTest]) -> AppTest:
    at = page("strategies")
    assert not at.exception
    return at


def test_instances_show_state_and_pnl(strategies: AppTest) -> None:
    from tests.dashboard.conftest import table_with

    table = table_with(strategies, "open_cost").set_index("name")
    assert table.loc["mm-btc", "state"] == "on" and table.loc["mm-btc", "status"] == "ok"
    assert "markets" not in table.columns  # a detail, on demand
    assert table.loc["vb-election", "last_error"]  # among the first while a strategy has one
    strategies.toggle(key="cols_strategies").set_value(True).run()
    table = table_with(strategies, "open_cost").set_index("name")
    assert table.loc["mm-btc", "enabled"]
    assert table.loc["mm-btc", "realized"] == pytest.approx(1.25 - 0.02) and table.loc[  # after fees
        "mm-btc", "fees"
    ] == pytest.approx(0.02)
    assert table.loc["mm-btc", "open_cost"] == pytest.approx(9.4)
    assert table.loc["vb-election", "status"] == "error" and table.loc[
        "vb-election", "realized"
    ] == pytest.approx(-3 - 0.05)
    assert table.loc["vb-election", "markets"] == "filter: text=election, min_liquidity=1000"


def test_valid_save_is_audited_and_applied_live(strategies: AppTest, db: Database) -> None:
    at = strategies
    at.text_input(key=f"{MM}_p_size").input("12")
    at.text_input(key=f"{MM}_p_half_spread").input("0.03")
    at.button(key=f"{MM}_save").click().run()
    assert not at.exception and not _errors(at)
    row = _row(db, "mm-btc")
    assert row["version"] == 2 and row["updated_by"] == "dashboard"
    params = json.loads(row["params"])
    assert params["size"] == 12 and params["half_spread"] == 0.03 and params["fair_value"] == "mid"
    ((before, after),) = _rows(db, "SELECT before, after FROM audit_log WHERE action = 'strategy.update'")
    assert json.loads(before)["params"] == {"half_spread": 0.02, "size": 10}
    assert json.loads(after)["params"] == params and json.loads(after)["version"] == 2
    assert _rows(db, "SELECT kind FROM commands") == [("reload_config",)]
    assert any("mm-btc saved (version 2)" in as_read(s.value) for s in at.success)
    assert (
        at.text_input(key="strategy_mm-btc_v2_p_size").value == "12"
    )  # the form restarts from the saved row


def _bad_values() -> list[tuple[str, str, str]]:
    cases = []
    for spec in registry()["market_making"].params_schema:
        if spec.type in (ParamType.BOOL, ParamType.CHOICE):
            continue
        cases.append((spec.name, "lots", "must be a number"))
        if spec.maximum is not None:
            cases.append((spec.name, str(spec.maximum * 2 + 1), "must be at most"))
        if spec.minimum is not None:
            cases.append((spec.name, str(spec.minimum - 1), "must be at least"))
    return cases


@pytest.mark.parametrize(("field", "value", "message"), _bad_values())
def test_each_invalid_field_is_refused_inline(
    strategies: AppTest, db: Database, field: str, value: str, message: str
) -> None:
    at = strategies
    title = next(s.title for s in registry()["market_making"].params_schema if s.name == field)
    at.text_input(key=f"{MM}_p_{field}").input(value)
    at.button(key=f"{MM}_save").click().run()
    assert not at.exception
    errors = _errors(at)
    assert any(e.startswith(f"{title}: {message}") for e in errors), errors
    assert "Nothing saved: fix the fields marked above." in errors
    assert _row(db, "mm-btc")["version"] == 1
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]


def test_too_many_decimals_are_refused(strategies: AppTest, db: Database) -> None:
    strategies.text_input(key=f"{MM}_p_half_spread").input("0.0200001")
    strategies.button(key=f"{MM}_save").click().run()
    assert "Half spread: must have at most 6 decimal places" in _errors(strategies)
    assert _row(db, "mm-btc")["version"] == 1


def test_concurrent_change_is_refused_then_reload_shows_it(strategies: AppTest, db: Database) -> None:
    at = strategies
    with db.write() as conn:  # another tab saves first
        conn.execute(
            text("""UPDATE strategies SET params = '{"size": 30}', version = version + 1
                             WHERE name = 'mm-btc'""")
        )
    at.text_input(key=f"{MM}_p_size").input("12")
    at.button(key=f"{MM}_save").click().run()
    assert any("changed elsewhere — reload" in e for e in _errors(at))
    assert json.loads(_row(db, "mm-btc")["params"]) == {"size": 30}
    assert _rows(db, "SELECT COUNT(*) FROM audit_log") == [(1,)]  # only the seed's row
    assert any("changed elsewhere" in w.value for w in at.warning)
    at.button(key="strategy_reload").click().run()
    assert at.text_input(key="strategy_mm-btc_v2_r1_p_size").value == "30"
    at.text_input(key="strategy_mm-btc_v2_r1_p_size").input("31")
    at.button(key="strategy_mm-btc_v2_r1_save").click().run()
    assert not _errors(at) and json.loads(_row(db, "mm-btc")["params"])["size"] == 31


def test_reload_drops_a_refused_entry(strategies: AppTest, db: Database) -> None:
    strategies.text_input(key=f"{MM}_p_size").input("abc")
    strategies.button(key=f"{MM}_save").click().run()
    assert "Nothing saved: fix the fields marked above." in _errors(strategies)
    strategies.button(key="strategy_reload").click().run()
    assert not strategies.exception
    assert strategies.text_input(key=f"{MM}_r1_p_size").value == "10"


def _add_markets(at: AppTest, prefix: str, typed: str, *ids: str) -> None:
    """Find markets by words, tick `ids` among the matches and add them, as the operator does."""
    from pages.widgets.strategy_markets import add_key, find_key, tick_key

    at.text_input(key=find_key(prefix)).input(typed).run()
    for cid in ids:
        at.checkbox(key=tick_key(at.session_state, prefix, cid)).check().run()
    at.button(key=add_key(prefix)).click().run()


def test_create_a_strategy(strategies: AppTest, db: Database) -> None:
    at = strategies
    at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
    at.selectbox(key="strategy_new_kind").set_value("value_betting").run()
    prefix = "strategy_new_value_betting"
    _add_markets(at, prefix, "bitcoin", BTC)  # above the form: picked first
    at.text_input(key="strategy_new_name").input("vb-btc")
    at.text_input(key=f"{prefix}_p_edge").input("0.05")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and not _errors(at)
    row = _row(db, "vb-btc")
    assert row["kind"] == "value_betting" and row["enabled"] == 0 and row["version"] == 1
    assert json.loads(row["markets"]) == [BTC]
    assert json.loads(row["params"])["edge"] == 0.05 and json.loads(row["params"])["order_style"] == "take"
    assert _rows(db, "SELECT action, entity FROM audit_log WHERE action = 'strategy.create'") == [
        ("strategy.create", "strategy:vb-btc")
    ]
    assert at.selectbox(key="strategy_pick").value == "vb-btc"


def test_the_kinds_that_fit_binary_markets_are_offered_and_created_off_and_paper_only(strategies: AppTest,
                                                                                       db: Database) -> None:
    """Their forms are generated from their schemas like every kind's (the fields' refusals are the
    contracts' tests: tests/contracts/test_strategy_kinds.py): two made here, one refusal shown inline;
    each page run costs a second, so not all five."""
    at = strategies
    offered = at.selectbox(key="strategy_pick").set_value("➕ New strategy").run().selectbox(key="strategy_new_kind")
    assert {"ladder", "accumulate", "breakout", "relative_value", "ensemble"} <= {
        label.rsplit("(", 1)[-1].rstrip(")") for label in offered.options}  # "Title (kind)"
    for kind in ("ladder", "ensemble"):
        at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
        at.selectbox(key="strategy_new_kind").set_value(kind).run()
        prefix, name = f"strategy_new_{kind}", kind.replace("_", "-")
        at.text_input(key="strategy_new_name").input(name)
        at.checkbox(key=f"{prefix}_anyway").check()  # (no market picked: saved to pick them later)
        if kind == "ensemble":
            at.text_input(key=f"{prefix}_p_min_confidence").input("1.5")
            at.button(key=f"{prefix}_save").click().run()
            assert any(e.startswith("Minimum confidence: must be at most 1") for e in _errors(at)), _errors(at)
            assert not _row(db, name)
            at.text_input(key=f"{prefix}_p_min_confidence").input("0.6")
        at.button(key=f"{prefix}_save").click().run()
        assert not at.exception and not _errors(at), (kind, _errors(at))
        row = _row(db, name)
        assert (row["kind"], row["enabled"], row["live"]) == (kind, 0, 0)
    assert json.loads(_row(db, "ensemble")["params"])["min_confidence"] == 0.6  # the T-Bot seed's floor


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Name: 1–64 characters"),
        ("bad name!", "Name: 1–64 characters"),
        ("mm-btc", "Name: a strategy named 'mm-btc' already exists"),
    ],
)
def test_create_refuses_a_bad_name(strategies: AppTest, db: Database, name: str, message: str) -> None:
    at = strategies
    at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
    at.text_input(key="strategy_new_name").input(name)
    at.button(key="strategy_new_market_making_save").click().run()
    assert any(e.startswith(message) for e in _errors(at)), _errors(at)
    assert _rows(db, "SELECT COUNT(*) FROM strategies") == [(2,)]


def test_enable_clears_the_engines_error_status(strategies: AppTest, db: Database) -> None:
    at = strategies
    at.selectbox(key="strategy_pick").set_value("vb-election").run()
    assert any("The engine disabled this strategy: ZeroDivisionError" in e for e in _errors(at))
    at.button(key="strategy_toggle").click().run()
    row = _row(db, "vb-election")
    assert row["enabled"] == 1 and row["status"] == "ok" and row["last_error"] is None and row["version"] == 2
    assert _rows(db, "SELECT action FROM audit_log WHERE entity = 'strategy:vb-election'") == [
        ("strategy.enable",)
    ]
    at.button(key="strategy_toggle").click().run()  # now "Disable"
    assert _row(db, "vb-election")["enabled"] == 0
    assert [k for (k,) in _rows(db, "SELECT kind FROM commands")] == ["reload_config", "reload_config"]


def test_pause_and_resume_one_strategy_are_audited_and_shown(strategies: AppTest, db: Database) -> None:
    at = strategies
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert at.button(key="strategy_pause").label == "Pause" and not at.get("button")[0].disabled
    assert not [b for b in at.button if b.key == "strategy_delete"]  # an enabled strategy cannot be deleted
    at.button(key="strategy_pause").click().run()
    row = _row(db, "mm-btc")
    assert (row["paused"], row["enabled"], row["version"]) == (1, 1, 2)
    assert any("enabled, paused" in m.value for m in at.markdown)
    assert at.button(key="strategy_pause").label == "Resume"
    at.button(key="strategy_pause").click().run()
    assert _row(db, "mm-btc")["paused"] == 0
    assert _rows(db, "SELECT action FROM audit_log WHERE entity = 'strategy:mm-btc' ORDER BY id") == [
        ("strategy.pause",), ("strategy.resume",)]
    assert [k for (k,) in _rows(db, "SELECT kind FROM commands")] == ["reload_config", "reload_config"]


def test_delete_is_refused_while_the_strategy_holds_then_confirmed_by_name(strategies: AppTest,
                                                                           db: Database) -> None:
    at = strategies
    with db.write() as conn:  # it still holds 5 shares
        conn.execute(text("UPDATE positions SET settled = 5000000 WHERE strategy = 'vb-election'"))
    at.selectbox(key="strategy_pick").set_value("vb-election").run()  # disabled (the engine's error)
    at.button(key="strategy_delete").click().run()
    at.text_input(key="strategy_delete_name").input("vb-electio").run()
    at.button(key="strategy_delete_confirm").click().run()
    assert "Not deleted: the name typed does not match." in _errors(at)
    assert _row(db, "vb-election")["deleted_at"] is None
    at.text_input(key="strategy_delete_name").input("vb-election").run()
    at.button(key="strategy_delete_confirm").click().run()
    held = [e for e in _errors(at) if "still holds 5 shares" in e]
    assert held and "exit or flatten them first" in held[0] and _row(db, "vb-election")["deleted_at"] is None
    with db.write() as conn:  # flat now (sold elsewhere)
        conn.execute(text("UPDATE positions SET settled = 0, pending = 0 WHERE strategy = 'vb-election'"))
    at.button(key="strategy_delete").click().run()
    at.text_input(key="strategy_delete_name").input("vb-election").run()
    at.button(key="strategy_delete_confirm").click().run()
    assert _row(db, "vb-election")["deleted_at"] is not None  # kept, marked
    assert _rows(db, "SELECT action FROM audit_log WHERE entity = 'strategy:vb-election'") == [("strategy.delete",)]
    at.run()
    from tests.dashboard.conftest import table_with

    assert "vb-election" not in set(table_with(at, "open_cost")["name"])  # gone from the list
    assert "vb-election" not in at.selectbox(key="strategy_pick").options


def test_a_deleted_strategys_name_is_not_taken_again(seeded: int, db: Database) -> None:
    from storage.desk import config
    from storage.desk import strategy_lifecycle as lifecycle

    version = _row(db, "vb-election")["version"]
    with db.write() as conn:  # one of its orders is still working
        conn.execute(text("UPDATE orders SET status = 'LIVE', status_rank = 10 WHERE strategy = 'vb-election'"))
    with pytest.raises(config.ConfigError, match="still has 1 open order: wait for their cancels"):
        lifecycle.delete_strategy(db, name="vb-election", version=version, actor="test")
    with db.write() as conn:
        conn.execute(text("UPDATE orders SET status = 'CANCELED', status_rank = 100 WHERE strategy = 'vb-election'"))
    lifecycle.delete_strategy(db, name="vb-election", version=version, actor="test")
    with pytest.raises(config.ConfigError, match="a deleted strategy was named 'vb-election'"):
        config.create_strategy(db, name="vb-election", kind="market_making", params={}, markets=[], enabled=False,
                               actor="test")
    with pytest.raises(config.ConfigError, match="no longer exists"):
        lifecycle.set_strategy_paused(db, name="vb-election", version=version + 1, paused=True, actor="test")
    from storage.desk import desk_lookups
    from storage.sqlite.lite import read_connection

    raw = read_connection(db.path)  # what the Telegram bot and `engine status` list
    try:
        assert "vb-election" not in desk_lookups.strategy_names(raw) and "mm-btc" in desk_lookups.strategy_names(raw)
        assert desk_lookups.strategy_version(raw, "vb-election") is None
    finally:
        raw.close()


def test_market_filter_fields_validate_and_save_as_numbers(strategies: AppTest, db: Database) -> None:
    at = strategies
    at.selectbox(key="strategy_pick").set_value("vb-election").run()
    prefix = "strategy_vb-election_v1"
    assert at.segmented_control(key=f"{prefix}_mkmode").value == "Filter"
    assert at.text_input(key=f"{prefix}_f_text").value == "election"
    at.text_input(key=f"{prefix}_f_min_liquidity").input("-5")
    at.button(key=f"{prefix}_save").click().run()
    assert "Min liquidity: must be at least 0 pUSD" in _errors(at)
    at.text_input(key=f"{prefix}_f_min_liquidity").input("2500")
    at.text_input(key=f"{prefix}_f_max_markets").input("3")
    at.button(key=f"{prefix}_save").click().run()
    assert not _errors(at)  # the edit also cleared the engine's error status
    row = _row(db, "vb-election")
    assert row["status"] == "ok" and row["enabled"] == 0  # fixed, but off until the operator enables it
    spec = json.loads(row["markets"])["filter"]
    assert spec["min_liquidity"] == 2500 and spec["max_markets"] == 3 and spec["text"] == "election"


def test_switching_from_a_market_list_to_a_filter(strategies: AppTest, db: Database) -> None:
    at = strategies
    at.segmented_control(key=f"{MM}_mkmode").set_value("Filter").run()
    at.text_input(key=f"{MM}_f_text").input("bitcoin")
    at.button(key=f"{MM}_save").click().run()
    assert json.loads(_row(db, "mm-btc")["markets"])["filter"]["text"] == "bitcoin"


@pytest.mark.parametrize("typed, says", [("1e-9999999999", "at most 6 decimal places"),  # was read as 0
                                         ("1e999999", "between 0 and 1"), ("9" * 1000, "a number between 0 and 1")])
def test_an_operator_fair_value_beyond_bounds_is_refused_never_read_as_0(typed: str, says: str) -> None:
    from pages.widgets.fair_values import parse_probability

    value, why = parse_probability(typed)
    assert value is None and says in why


def test_operator_fair_value_set_refused_and_cleared(strategies: AppTest, db: Database) -> None:
    at = strategies
    at.selectbox(key="fv_market").set_value(BTC)
    at.text_input(key="fv_value").input("1.5")
    at.button(key="fv_save").click().run()
    assert any("Fair value must be a probability between 0 and 1" in e for e in _errors(at))
    at.text_input(key="fv_value").input("0.62")
    at.button(key="fv_save").click().run()
    assert _rows(db, f"SELECT source, fair_value FROM signals WHERE condition_id = '{BTC}'") == [
        ("operator", 620000)
    ]
    at.selectbox(key="fv_clear_market").set_value(ELECTION)
    at.button(key="fv_clear").click().run()
    assert _rows(db, f"SELECT source FROM signals WHERE condition_id = '{ELECTION}'") == [("model",)]
    actions = [
        a for (a,) in _rows(db, "SELECT action FROM audit_log WHERE action LIKE 'fair_value.%' ORDER BY id")
    ]
    assert actions == ["fair_value.set", "fair_value.clear"]


def test_clearing_a_fair_value_shows_the_engines_answer_to_the_reload(strategies: AppTest, db: Database) -> None:
    at = strategies
    engine_up(db)
    engine = answer_next(db, "reload_config", ok=False, error="fair values could not be read: database is locked")
    at.selectbox(key="fv_clear_market").set_value(ELECTION)
    at.button(key="fv_clear").click().run()
    engine.join(5)
    assert not at.exception
    assert _rows(db, f"SELECT source FROM signals WHERE condition_id = '{ELECTION}'") == [("model",)]
    assert any("Operator fair value cleared" in s.value for s in at.success)
    assert any("reload of the fair values: failed" in e and "database is locked" in e for e in _errors(at)), \
        _errors(at)


def test_clearing_a_fair_value_with_no_engine_says_the_reload_is_queued(strategies: AppTest, db: Database) -> None:
    at = strategies
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET heartbeat_at = NULL, pid = NULL"))
    at.selectbox(key="fv_clear_market").set_value(ELECTION)
    at.button(key="fv_clear").click().run()
    assert any("reload of the fair values: queued" in w.value and "engine is not running" in w.value
               for w in at.warning), [w.value for w in at.warning]


def test_a_plugin_kind_is_offered_and_created_and_a_broken_plugin_is_named(
        seeded: int, db: Database, page: Callable[[str], AppTest], tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from tests.helpers import ROOT

    folder = tmp_path / "plugins"
    shutil.copytree(ROOT / "plugins" / "examples" / "mid_band", folder / "mid_band")
    (folder / "half").mkdir()
    (folder / "half" / "schema.py").write_text("SCHEMA = 'not a schema'\n")
    monkeypatch.setenv("STRATEGY_PLUGINS_DIR", str(folder))
    at = page("strategies")
    assert any("Strategy plugins left out" in w.value and "half" in w.value and "defines no SCHEMA" in w.value
               for w in at.warning)
    at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
    assert "Mid band (example plugin) (mid_band)" in at.selectbox(key="strategy_new_kind").options
    at.selectbox(key="strategy_new_kind").set_value("mid_band").run()
    prefix = "strategy_new_mid_band"
    _add_markets(at, prefix, "bitcoin", BTC)
    at.text_input(key="strategy_new_name").input("band")
    at.text_input(key=f"{prefix}_p_size").input("0")  # refused by the plugin's own schema, under its field
    at.button(key=f"{prefix}_save").click().run()
    assert not _row(db, "band") and any("Size" in e for e in _errors(at))
    at.text_input(key=f"{prefix}_p_size").input("15")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception
    row = _row(db, "band")
    assert row["kind"] == "mid_band" and json.loads(row["params"]) == {"size": 15, "half_band": 0.03}


def test_a_strategy_s_orders_tab_lists_its_own_orders_with_why_each_ended(seeded: int, db: Database,
                                                                          page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE orders SET status = 'CANCELED', status_rank = 100, end_reason = 'paused', "
                          "filled = 0 WHERE strategy = 'mm-btc' AND id = (SELECT MIN(id) FROM orders "
                          "WHERE strategy = 'mm-btc')"))
    at = page("strategies")
    assert not at.exception
    orders_tab = next(t for t in at.tabs if t.label == "Orders")
    [table] = [t.value for t in orders_tab.table]
    assert "why it ended" in " ".join(map(str, table.columns))
    ended = table[[c for c in table.columns if "why it ended" in str(c)][0]]
    assert "paused" in set(ended)
    strategies_of = _rows(db, "SELECT DISTINCT strategy FROM orders WHERE mode = 'paper'")
    assert len(table) == _rows(db, "SELECT COUNT(*) FROM orders WHERE strategy = 'mm-btc' AND mode = 'paper'")[0][0]
    assert ("mm-btc",) in strategies_of


def test_a_market_is_found_only_by_the_words_typed_and_added_only_when_ticked(strategies: AppTest,
                                                                             db: Database) -> None:
    """Issue 73 item 2: "Fed" once matched "Will France win the 2022 World Cup?" letter by letter, and
    "Select 5 matches" added them unseen."""
    from pages.widgets.strategy_markets import add_key, find_key, tick_key
    from storage.dashboard_queries import market_queries

    found, total = market_queries.find_markets(db, "win")  # w…i…n in order in every question: only one has it
    assert list(found["question"]) == ["Will the incumbent win the election?"] and total == 1
    assert list(market_queries.find_markets(db, "WILL bitcoin")[0]["condition_id"]) == [BTC]  # every word, any case
    assert market_queries.find_markets(db, "will %")[1] == 0  # typed literally
    at = strategies
    at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
    prefix = "strategy_new_market_making"
    at.text_input(key=find_key(prefix)).input("will").run()
    offered = {c.key: c.label for c in at.checkbox if c.key.startswith(f"{prefix}_tick")}
    assert len(offered) == 3 and all("Will" in label for label in offered.values())  # each shown before any is taken
    assert at.multiselect(key=f"{prefix}_markets").value == []  # nothing added by typing
    at.checkbox(key=tick_key(at.session_state, prefix, BTC)).check().run()
    at.checkbox(key=tick_key(at.session_state, prefix, ELECTION)).check().run()
    assert at.button(key=add_key(prefix)).label == "Add 2 ticked markets"
    at.button(key=add_key(prefix)).click().run()
    picked = at.multiselect(key=f"{prefix}_markets")
    assert picked.value == [ELECTION, BTC]  # shown whole, by question, before the save (as listed: busiest first)
    assert [picked.format_func(c) for c in picked.value] == ["Will the incumbent win the election?  ·  0xelection",
                                                           "Will Bitcoin reach $100k by June?  ·  0xbtc100k"]
    at.text_input(key="strategy_new_name").input("mm-two")
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and json.loads(_row(db, "mm-two")["markets"]) == [ELECTION, BTC]


def test_the_form_warns_of_a_strategy_that_could_not_trade_and_saves_it_only_if_told(strategies: AppTest,
                                                                                     db: Database) -> None:
    """Issue 73 item 4, as the Backtest form does: no market; a size below a market's minimum."""
    at = strategies
    at.selectbox(key="strategy_pick").set_value("➕ New strategy").run()
    prefix = "strategy_new_market_making"
    at.text_input(key="strategy_new_name").input("my-mm")
    at.button(key=f"{prefix}_save").click().run()
    said = [as_read(w.value) for w in at.warning]
    assert any("Nothing saved: no market: it places nothing until you pick one" in w for w in said), said
    assert not _row(db, "my-mm")
    _add_markets(at, prefix, "bitcoin", BTC)  # its minimum order is 5 shares
    at.text_input(key="strategy_new_name").input("my-mm")
    at.text_input(key=f"{prefix}_p_size").input("4")
    at.button(key=f"{prefix}_save").click().run()
    said = [as_read(w.value) for w in at.warning]
    assert any("its order size (4 shares) is below the minimum of Will Bitcoin reach $100k by June? (5 shares)"
               in w and "BELOW_MIN_SIZE" in w for w in said), said
    assert not _row(db, "my-mm")
    at.checkbox(key=f"{prefix}_anyway").check()
    at.button(key=f"{prefix}_save").click().run()
    assert not at.exception and json.loads(_row(db, "my-mm")["params"])["size"] == 4  # told: saved as set
    assert any("It is off: it places nothing until you press Enable" in as_read(s.value) for s in at.success)


def test_the_table_says_why_each_strategy_is_not_trading(seeded: int, db: Database,
                                                         page: Callable[[str], AppTest]) -> None:
    """Issue 73 item 4: a market maker whose every quote was refused BELOW_MIN_SIZE read "on · ok"."""
    from storage.desk import config
    from storage.sqlite.db import now_ms
    from tests.dashboard.conftest import engine_up, table_with

    engine_up(db)
    with db.write() as conn:  # mm-btc has no order working, and the gate refused its quotes
        conn.execute(text("UPDATE orders SET status = 'CANCELED', status_rank = 100 WHERE strategy = 'mm-btc'"))
        for _ in range(3):
            conn.execute(text("""INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested,
                                     approved, action, reason) VALUES (:now, 'paper', 'mm-btc', :m, 'BUY', 480000,
                                     10000000, 0, 'deny', 'BELOW_MIN_SIZE')"""), {"now": now_ms(), "m": BTC})
    config.create_strategy(db, name="idle-mm", kind="market_making", params={}, markets=[], enabled=False,
                           actor="t")
    config.create_strategy(db, name="empty-mm", kind="market_making", params={"size": 4}, markets=[], enabled=True,
                           actor="t")
    config.create_strategy(db, name="small-mm", kind="market_making", params={"size": 4}, markets=[BTC],
                           enabled=True, actor="t")
    idle = table_with(page("strategies"), "open_cost").set_index("name")["idle"]
    assert idle["mm-btc"].startswith("refused BELOW_MIN_SIZE ×3, TRADING_REDUCING ×1 in the last 2 min: its sizes "
                                     "are below the markets' minimum order"), idle["mm-btc"]  # every code, counted
    assert idle["vb-election"].startswith("disabled by the engine after an error")
    assert idle["idle-mm"] == "off: enable it (Settings tab)"
    assert "no market: it places nothing" in idle["empty-mm"]
    assert "order size 4 below the minimum (5 shares) of 1 of its 1 markets: BELOW_MIN_SIZE" in idle["small-mm"]
    with db.write() as conn:  # the desk stopped, and live: not-promoted strategies never trade live
        conn.execute(text("UPDATE engine_state SET state = 'STOPPED', mode = 'live'"))
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'small-mm'"))
    idle = table_with(page("strategies"), "open_cost").set_index("name")["idle"]
    assert "the desk is STOPPED: not trading" in idle["small-mm"] and "paper only until promoted" in idle["small-mm"]
