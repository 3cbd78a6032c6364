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


# -- the first run: each step said, with how long it takes, and pip's progress instead of its noise -------

PIP_OUTPUT = """Collecting aiohttp==3.14.5 (from -r requirements.txt (line 2))
  Downloading aiohttp-3.14.5-cp311-cp311-manylinux_2_17_x86_64.whl (1.7 MB)
Collecting APScheduler==3.11.3 (from -r requirements.txt (line 3))
  Using cached APScheduler-3.11.3-py3-none-any.whl (64 kB)
Requirement already satisfied: pip in ./.venv/lib/python3.11/site-packages
Collecting aiohttp==3.14.5
Collecting uvicorn[standard]==0.54.0 (from -r requirements.txt (line 4))
  Building wheel for coincurve (pyproject.toml): started
warning: a compiler's noise that nobody should have to read
Installing collected packages: aiohttp, APScheduler, uvicorn
Successfully installed aiohttp-3.14.5 APScheduler-3.11.3 uvicorn-0.54.0
"""


def test_pips_output_becomes_a_line_of_progress_per_package() -> None:
    from tools.first_run import progress

    ticks = iter(range(30, 1000, 30))
    shown = list(progress(PIP_OUTPUT.splitlines(), 4, 0.0, clock=lambda: next(ticks)))
    assert shown[:4] == ["  fetching 1/4 packages (aiohttp), 0.5 min so far",
                         "  fetching 2/4 packages (apscheduler), 1.0 min so far",
                         "  fetching 3/4 packages (pip), 1.5 min so far",
                         "  fetching 4/4 packages (uvicorn), 2.0 min so far"]  # aiohttp once, extras dropped
    assert shown[4:] == ["  installing the 4 packages into .venv (unpacking: about a minute) ..."]
    assert not any("Downloading" in line or "warning" in line or "wheel" in line for line in shown)


def _fake_python(tmp_path: Path, output: str, code: int) -> str:
    script = tmp_path / "python"
    (tmp_path / "pip.out").write_text(output)
    script.write_text(f"#!/bin/sh\ncat {tmp_path / 'pip.out'}\nexit {code}\n")
    script.chmod(0o755)
    return str(script)


def test_the_install_step_shows_progress_and_keeps_pips_noise_in_its_log(tmp_path: Path) -> None:
    import io

    from tools.first_run import install

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\naiohttp==3.14.5\nAPScheduler==3.11.3\npip==24.0\nuvicorn==0.54.0\n")
    out, log = io.StringIO(), tmp_path / "log" / "setup.log"
    assert install(_fake_python(tmp_path, PIP_OUTPUT, 0), requirements, out, log) == 0
    shown = out.getvalue()
    assert "fetching 1/4 packages (aiohttp)" in shown and "installing the 4 packages into .venv" in shown
    assert "the packages are installed (" in shown and str(log) in shown
    assert "compiler's noise" not in shown and "Downloading" not in shown
    assert log.read_text() == PIP_OUTPUT  # every line kept, for when something goes wrong

    failed = io.StringIO()
    assert install(_fake_python(tmp_path, PIP_OUTPUT + "ERROR: No matching distribution found for x==9\n", 1),
                   requirements, failed, log) == 1
    assert "pip failed; its last lines:" in failed.getvalue()
    assert "ERROR: No matching distribution found for x==9" in failed.getvalue() and str(log) in failed.getvalue()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make (apt-get install make; .ci/run does it)")
def test_make_run_says_each_step_and_how_long_it_takes(tmp_path: Path) -> None:
    """From a fresh clone (no .venv yet): each step of `make run` is announced with its duration, pip's
    progress comes from tools/first_run.py, and nothing is compiled before the dashboard starts."""
    venv = tmp_path / "venv"  # a virtualenv that does not exist yet, as in a fresh clone
    plan = subprocess.run(["make", "-n", "run", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60).stdout
    steps = [line for line in plan.splitlines() if "tools.first_run step" in line]
    assert len(steps) == 4, plan
    assert "installing the pinned Python packages into .venv" in plan and "~4-5 minutes on a loaded 2-core" in plan
    assert "tools.first_run install" in plan and "pip install" not in plan  # pip's progress, not its output
    assert "preparing .env, var/ and the database" in plan and "starting the simulator, the engine" in plan
    assert "dashboard answers within about a minute" in plan
    assert "mypyc" not in plan and "build_core" not in plan  # no compiler before the dashboard
    for line in (tools_step("installing the pinned Python packages into .venv", "~4-5 minutes, once"),):
        assert line == "==> installing the pinned Python packages into .venv (~4-5 minutes, once)"


def tools_step(what: str, how_long: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tools.first_run", "step", what, how_long], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()
