"""Strategy plugins (contracts/strategy_plugins.py, engine/strategies/plugins.py): a folder of
kinds of your own, loaded without a code change. A good plugin (the shipped example) is offered
to the dashboard, the CLI and the engine like a built-in kind and decides; every kind of bad
plugin is left out with its reason while the desk keeps running; an edit is read on reload."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts.domain import Book, Level, MarketInfo, MarketView, Side, Snapshot, StrategyState
from contracts.strategy_kinds import registry as schemas
from contracts.strategy_kinds import validate_params
from engine.strategies.registry import build_strategy
from engine.trading.hosting.strategy_plugins import plugin_problems
from engine.trading.hosting.strategy_plugins import strategy_classes as classes
from tests.helpers import ROOT

EXAMPLE = ROOT / "plugins" / "examples" / "mid_band"


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, body in files.items():
        (folder / name).write_text(body)


GOOD_SCHEMA = (EXAMPLE / "schema.py").read_text()


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "plugins"
    shutil.copytree(EXAMPLE, folder / "mid_band")
    write(folder / "broken", {"schema.py": "SCHEMA = (\n"})
    write(folder / "market_making", {"schema.py": GOOD_SCHEMA})
    write(folder / "wrong_kind", {"schema.py": GOOD_SCHEMA})
    write(folder / "no_class", {"schema.py": GOOD_SCHEMA.replace('"mid_band"', '"no_class"'),
                                "strategy.py": "X = 1\n"})
    write(folder / "no_decide", {"schema.py": GOOD_SCHEMA.replace('"mid_band"', '"no_decide"'),
                                 "strategy.py": "from engine.strategies.base import StrategyBase\n"
                                                "from .schema import SCHEMA\n\n\nclass Half(StrategyBase):\n"
                                                "    schema = SCHEMA\n"})
    write(folder / "Bad-Name", {"schema.py": GOOD_SCHEMA})
    monkeypatch.setenv("STRATEGY_PLUGINS_DIR", str(folder))
    return folder


def test_a_good_plugin_is_a_kind_like_the_built_ins_and_bad_ones_are_left_out_with_why(plugins: Path) -> None:
    assert "mid_band" in schemas() and "mid_band" in classes()
    assert schemas()["market_making"].title != "Mid band (example plugin)"  # a plugin cannot replace a built-in
    params, errors = validate_params("mid_band", {"size": 20})
    assert not errors and params == {"size": 20, "half_band": 0.03}
    assert validate_params("mid_band", {"size": 0})[1]["size"]  # its schema's checks, as the dashboard runs them
    problems = plugin_problems()
    assert problems["broken"].startswith("schema.py does not import: SyntaxError")
    assert problems["market_making"] == "'market_making' is a built-in kind: name the plugin otherwise"
    assert problems["wrong_kind"] == "its SCHEMA is kind 'mid_band', not 'wrong_kind' (the folder's name)"
    assert problems["no_class"] == "strategy.py defines 0 StrategyBase subclasses: it must define exactly one"
    assert problems["no_decide"] == "its class does not implement decide(snapshot, state, now_ms)"
    assert "lower-case letters" in problems["Bad-Name"]
    assert set(classes()) == {"market_making", "complement_arb", "value_betting", "momentum", "copy_trading",
                              "cross_venue_arb", "ladder", "accumulate", "relative_value", "breakout", "ensemble",
                              "mid_band"}


def test_the_plugin_decides(plugins: Path) -> None:
    strategy = build_strategy("band", "mid_band", {"size": 20, "half_band": 0.02}, classes())
    info = MarketInfo(condition_id="c1", question="?", yes_token="Y", no_token="N", tick=10_000, min_size=5_000_000)
    yes = Book("Y", (Level(480_000, 10_000_000),), (Level(520_000, 10_000_000),), 0)
    no = Book("N", (Level(480_000, 10_000_000),), (Level(520_000, 10_000_000),), 0)
    (intent,) = strategy.decide(Snapshot(0, {"c1": MarketView(info, yes, no)}), StrategyState("band"), 0)
    assert [(q.side, q.price, q.size) for q in intent.quotes] == [(Side.BUY, 480_000, 20_000_000),
                                                                   (Side.SELL, 520_000, 20_000_000)]


def test_an_edited_plugin_is_read_again(plugins: Path) -> None:
    assert schemas()["mid_band"].params_schema[1].default == 0.03
    schema = plugins / "mid_band" / "schema.py"
    schema.write_text(schema.read_text().replace("0.03,", "0.05,"))
    assert schemas()["mid_band"].params_schema[1].default == 0.05
    assert classes()["mid_band"].params_schema[1].default == 0.05  # the engine's class uses the edited schema
    broken = plugins / "broken" / "schema.py"
    broken.write_text(GOOD_SCHEMA.replace('"mid_band"', '"broken"'))
    assert "broken" in schemas() and plugin_problems()["broken"].startswith("no strategy.py")


def test_no_plugins_folder_means_the_built_ins_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATEGY_PLUGINS_DIR", str(tmp_path / "none"))
    assert set(schemas()) == {"market_making", "complement_arb", "value_betting", "momentum", "copy_trading",
                              "cross_venue_arb", "ladder", "accumulate", "relative_value", "breakout", "ensemble"}
    assert plugin_problems() == {}
