"""`supervisorctl status` exits 0 when everything that should run runs: the optional programs
(simulator, Telegram bot, signals API, metrics) are under supervisord only when the settings ask
for them (tools/optional_programs.py writes supervisord.conf's include), so one that is off is
not listed as stopped, which made `status` exit 3."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from contracts.settings import SettingsError, load_settings, read_env
from tests.browser.cdp import free_port
from tests.helpers import ROOT, isolated_env, run_cli, wait_until
from tests.supervisor_harness import VENV_BIN, Supervisor, relocate, relocated_conf
from tools import optional_programs
from tools.optional_programs import choices, sections

TELEGRAM_TOKEN = "123456789:" + "A" * 35
SIGNALS_TOKEN = "s" * 40


def _on(env: dict[str, str]) -> set[str]:
    return {c.name for c in choices(load_settings(env), read_env(env=env)) if c.on}


def test_each_optional_program_runs_only_when_its_setting_is_there(tmp_path: Path) -> None:
    assert _on(isolated_env(tmp_path)) == {"simulator"}  # a fresh desk: the simulator only
    configured = isolated_env(tmp_path, DATA_SOURCE="polymarket", TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
                              TELEGRAM_ALLOWED_CHATS="42", SIGNALS_API_TOKEN=SIGNALS_TOKEN, METRICS_ENABLED="1")
    assert _on(configured) == {"telegram", "signals", "metrics"}
    with pytest.raises(SettingsError, match="METRICS_ENABLED must be 1 .on. or 0 .off., not 'maybe'"):
        _on(isolated_env(tmp_path, METRICS_ENABLED="maybe"))
    written = sections((ROOT / "supervisord.optional.conf").read_text(), {"telegram", "metrics"})
    assert [line for line in written.splitlines() if line.startswith("[")] == ["[program:telegram]",
                                                                                "[program:metrics]"]


def test_make_run_writes_the_include_before_supervisord_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in isolated_env(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_ALLOWED_CHATS="42").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(optional_programs, "INCLUDED", tmp_path / "run" / "optional-programs.conf")
    assert optional_programs.main() == 0
    written = (tmp_path / "run" / "optional-programs.conf").read_text()
    assert "[program:simulator]" in written and "[program:telegram]" in written and "[program:signals]" not in written
    assert "%(here)s" not in written and f"{ROOT}/.venv/bin/python -u -m engine telegram" in written
    said = capsys.readouterr().out
    assert "simulator (DATA_SOURCE=simulator), telegram (TELEGRAM_BOT_TOKEN set)" in said
    assert "off: signals (SIGNALS_API_TOKEN not set), metrics (METRICS_ENABLED=0)" in said
    if shutil.which("make"):
        plan = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
        assert plan.index("-m tools.optional_programs") < plan.index("-m tools.run_desk")  # run_desk starts supervisord


def _status(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "supervisorctl"), "-c", str(conf), "status"], capture_output=True,
                          text=True, timeout=30, check=False)


@pytest.mark.slow
def test_supervisorctl_status_exits_0_with_the_desk_as_make_run_starts_it(tmp_path: Path) -> None:
    """The real supervisord.conf and its include, written for a desk with no Telegram token, no
    signals token and no metrics port: `status` lists the four programs that run, all RUNNING,
    and exits 0."""
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(free_port()), STREAMLIT_SERVER_PORT=str(free_port()),
                       DASHBOARD_PASSWORD_HASH="x")
    assert run_cli(["init"], env).returncode == 0
    conf = relocated_conf(tmp_path, None, optional_included=True)  # all of it
    wanted = {c.name for c in choices(load_settings(env), read_env(env=env)) if c.on}
    optional_programs.write(tmp_path / "var" / "run" / "optional-programs.conf",
                            relocate((ROOT / "supervisord.optional.conf").read_text(), tmp_path), wanted)
    sup = Supervisor(conf, env)
    try:
        for name in ("simulator", "engine", "dashboard", "watchdog"):
            sup.wait_running(name, 90)
        status = wait_until(lambda: (s := _status(conf)).returncode == 0 and s, 60, 0.5,
                            "supervisorctl status exiting 0")
        listed = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines() if line.strip()}
        assert listed == dict.fromkeys(("simulator", "engine", "dashboard", "watchdog"), "RUNNING"), status.stdout
    finally:
        sup.shutdown()
