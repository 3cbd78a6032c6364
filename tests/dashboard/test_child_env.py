"""A process the dashboard starts that needs no secret (a backtest, a sweep, a PMXT import) is
started without any secret the operator exported into the dashboard's environment: each launcher
starts a real child, here a stand-in interpreter that writes the environment it was given, and the
secrets are not in it while the rest of the environment (and the database it is pointed at) is."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from contracts.child_env import SECRETS, without_secrets
from contracts.sweep_spec import SweepSpec, parse_space
from pages.widgets import backtest_launch, pmxt_panel, sweep_launch
from storage.sqlite.db import Database
from tests.helpers import wait_until

EXPORTED = {"POLY_PRIVATE_KEY": "0x" + "ab" * 32, "TELEGRAM_BOT_TOKEN": "123456:secret-token",
            "KALSHI_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----x", "POLY_API_SECRET": "s3cr3t-value-here"}


def _stand_in(tmp_path: Path) -> Path:
    """An 'interpreter' that records its environment under the command it was asked to run."""
    script = tmp_path / "python"
    script.write_text(f"#!{sys.executable}\n"
                      "import json, os, pathlib, sys\n"
                      "name = sys.argv[3] if len(sys.argv) > 3 else 'unknown'\n"
                      "dump = pathlib.Path(os.environ['ENV_DUMP_DIR'], name + '.json')\n"
                      "dump.write_text(json.dumps(dict(os.environ)))\n")
    script.chmod(0o755)
    return script


def test_the_dashboards_children_get_no_secret(dash_env: Path, db: Database, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    monkeypatch.setenv("ENV_DUMP_DIR", str(dumps))
    for name, value in EXPORTED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "executable", str(_stand_in(tmp_path)))

    backtest_launch.launch(db, backtest_launch.make_spec(kind="market_making", params={}, from_ms=0, to_ms=1),
                           "child env", root=tmp_path, actor="test")
    sweep_launch.launch_sweep(db, SweepSpec("child env", "market_making",
                                            parse_space({"size": [5, 40, "int"]}, "market_making"), 0, 1, {}, (),
                                            trials=2), 1, root=tmp_path, actor="test")
    pmxt_panel.launch(db, pmxt_panel.Asked("/tmp/hour.parquet", ["0xabc"], "", "", ""), tmp_path)

    children = {"backtest", "sweep", "import-history"}
    wait_until(lambda: {p.stem for p in dumps.glob("*.json")} >= children, timeout=30,
               what="every launched child to write its environment")
    for child in children:
        given = json.loads((dumps / f"{child}.json").read_text())
        assert not SECRETS & set(given), child
        assert given["TRADER_DB"] == str(db.path) and given["ENV_DUMP_DIR"] == str(dumps)  # the rest is kept


def test_without_secrets_keeps_everything_else() -> None:
    environ = {"PATH": "/bin", "POLY_PRIVATE_KEY": "k", "NOTIFY_URLS": "tgram://x", "LOG_LEVEL": "INFO"}
    assert without_secrets({"TRADER_DB": "/d.db"}, environ) == {"PATH": "/bin", "LOG_LEVEL": "INFO",
                                                                 "TRADER_DB": "/d.db"}
