"""What a new operator reads while setting up: `make run` names the port the dashboard really
uses, `init` without a terminal says where to set the password instead of skipping it, and
`set-password` does not ask for a restart the dashboard does not need."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, isolated_env, run_cli
from tools.run_banner import dashboard_url


def _banner(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "tools.run_banner"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30, check=True)
    return done.stdout


def test_the_banner_names_the_port_the_dashboard_listens_on(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, STREAMLIT_SERVER_PORT="9123")
    assert "dashboard at http://127.0.0.1:9123 " in _banner(env)
    env.pop("STREAMLIT_SERVER_PORT")
    assert "dashboard at http://127.0.0.1:8501 " in _banner(env)  # .streamlit/config.toml's
    config = tmp_path / "config.toml"
    config.write_text('[server]\naddress = "0.0.0.0"\nport = 8600\n')
    assert dashboard_url({}, config) == "http://127.0.0.1:8600"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make (apt-get install make; .ci/run does it)")
def test_make_run_prints_the_banner_rather_than_a_fixed_port() -> None:
    plan = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "-m tools.run_banner" in plan and "8501" not in plan


def test_init_without_a_terminal_says_where_to_set_the_password(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)  # no DASHBOARD_PASSWORD_HASH, and run_cli gives no terminal
    done = run_cli(["init"], env)
    assert done.returncode == 0, done.stderr
    assert "No dashboard password is set yet, and there is no terminal to ask for one" in done.stdout
    assert "open the dashboard" in done.stdout and "python -m engine set-password" in done.stdout


def test_set_password_needs_no_dashboard_restart(tmp_path: Path) -> None:
    done = run_cli(["set-password"], isolated_env(tmp_path), input_text="a long enough secret\n")
    assert done.returncode == 0, done.stderr
    assert "restart" not in done.stdout.lower() and "from its next page load" in done.stdout
