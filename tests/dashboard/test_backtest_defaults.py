"""A new backtest or sweep starts from an order size the markets accept: on markets whose
minimum is 15 shares, the form's size reads 15 (not the kind's 10) and the sweep's example
space searches sizes from 15 (not 5–50, where most trials would only be refused)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from contracts.strategy_kinds import KINDS, registry
from contracts.sweep_spec import parse_space
from pages.widgets.backtest_launch import size_defaults
from pages.widgets.sweep_panels import space_example
from storage.sqlite.db import Database
from tests.dashboard.test_backtest_page import P
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402


def _minimum(path: Path, shares: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE markets SET min_size = ?", (shares * 1_000_000,))
    conn.commit()
    conn.close()


def test_new_forms_start_at_the_markets_minimum(dash_env: Path, db: Database,
                                                page: Callable[[str], AppTest]) -> None:
    write_recording(dash_env, markets=2, events=300)
    _minimum(dash_env, 15)
    at = page("backtest")
    assert not at.exception
    assert at.text_input(key=f"{P}size").value == "15"
    (grid,) = [d for d in at.data_editor if d.key == "sw_space_market_making"]
    rows = grid.value.set_index("param")
    assert (rows.loc["size", "low"], rows.loc["size", "high"]) == (15, 60)
    assert (rows.loc["half_spread", "low"], rows.loc["half_spread", "high"]) == (0.005, 0.05)


def test_a_size_above_the_minimum_is_left_alone() -> None:
    schema = registry()["market_making"].params_schema
    assert size_defaults(schema, 15.0) == {"size": 15.0}
    assert size_defaults(schema, 5.0) == {} and size_defaults(schema, None) == {}
    assert json.loads(space_example("momentum", 3.0))["position_size"] == [5, 50, "int"]
    assert json.loads(space_example("complement_arb", 20.5))["max_size"] == [21, 100, "int"]


def test_every_built_in_kind_starts_a_sweep_from_a_space_its_schema_accepts() -> None:
    """The sweep form offers every kind (a kind without an example would start from an empty space)."""
    for kind in KINDS:
        space = json.loads(space_example(kind.kind, None))
        assert space, kind.kind
        parse_space(space, kind.kind)  # raises on a param the kind does not have or a bound outside its own


def test_a_backtest_from_a_strategys_params_trades_that_strategys_markets(dash_env: Path, db: Database,
                                                                           page: Callable[[str], AppTest]) -> None:
    """Picking a configured strategy's params and no market backtests the markets it trades (issue 85: an
    accumulation's target bought once on paper was bought once per recorded market in its backtest)."""
    markets, _, _ = write_recording(dash_env, markets=3, events=300)
    conn = sqlite3.connect(dash_env)
    conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at, updated_by)
                    VALUES ('dca', 'accumulate', '{"target_shares": 30}', ?, 1, 0, 0, 't')""",
                 (json.dumps(markets[1:2]),))
    conn.commit()
    conn.close()
    at = page("backtest")
    at.selectbox(key="bt_kind").set_value("accumulate").run()
    assert any(c.value.startswith("No market picked: all 3 with ticks") for c in at.caption)
    at.selectbox(key="bt_preset_accumulate").set_value("dca").run()
    assert not at.exception
    assert any(c.value.startswith("No market picked: the 1 market(s) strategy dca trades with ticks in the range")
               for c in at.caption), [c.value for c in at.caption]
