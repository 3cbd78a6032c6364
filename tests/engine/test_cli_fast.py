"""The quick subcommands import nothing of the trading stack: `status`, `command`, `alerts` run in
a subprocess, do their real work on a temp database, and then list what they imported. No time
is measured here (bench/cli.py does that); what would make them slow is asserted absent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from storage.migrations import migrate
from tests.helpers import ROOT, isolated_env

# Run the CLI's main() in-process of a fresh interpreter, then report sys.modules on stderr.
DRIVER = (
    "import json, sys\n"
    "from engine.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "print('MODULES=' + json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    "sys.exit(code)\n"
)
# Each of these costs from a tenth of a second to seconds to import on a small VPS.
HEAVY = ("py_clob_client_v2", "pandas", "numpy", "engine.trading.core", "engine.backtest", "engine.venues",
         "sqlalchemy", "sqlmodel", "sqlite_utils", "apprise", "streamlit", "eth_account", "websockets",
         "apscheduler", "aiohttp", "httpx", "optuna", "plotly")


def _run(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    result = subprocess.run([sys.executable, "-c", DRIVER, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    marker = [line for line in result.stderr.splitlines() if line.startswith("MODULES=")]
    assert marker, result.stderr
    return result, json.loads(marker[0].removeprefix("MODULES="))


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY or any(m.startswith(h + ".") or m == h for h in HEAVY)]


@pytest.fixture
def desk_env(tmp_path: Path) -> dict[str, str]:
    env = isolated_env(tmp_path, NOTIFY_URLS="json://127.0.0.1:9/hook")
    migrate(Path(env["TRADER_DB"]))
    return env


def test_status_imports_no_trading_module(desk_env: dict[str, str]) -> None:
    result, modules = _run(desk_env, "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "IDLE" and report["notifications"]["destinations"] == ["json"]
    assert _heavy(modules) == []


def test_command_imports_no_trading_module(desk_env: dict[str, str]) -> None:
    result, modules = _run(desk_env, "command", "pause", "--no-wait")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "pending"
    assert _heavy(modules) == []
    refused, modules = _run(desk_env, "command", "pause", "{not json")
    assert refused.returncode == 2 and "not valid JSON" in refused.stderr
    assert _heavy(modules) == []


def test_alerts_list_imports_no_trading_module(desk_env: dict[str, str]) -> None:
    result, modules = _run(desk_env, "alerts", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == {"unacked": 0, "alerts": []}
    assert _heavy(modules) == []
