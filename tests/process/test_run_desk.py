"""Unattended: closing `make run`'s terminal stops everything it started (a real SIGHUP to its
process group: supervisord would otherwise reload and restart every program), and the service unit
`make service` installs passes systemd's own checker and runs a desk that restarts a crashed
program and stops in order on the service manager's SIGTERM; once systemd stops restarting it, the
unit it runs (`OnFailure=`) tells the operator through NOTIFY_URLS, even when the desk's settings do
not load."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xmlrpc.client import Fault, ServerProxy

import pytest
from supervisor.xmlrpc import SupervisorTransport

from tests.helpers import ROOT, isolated_env, wait_until
from tests.notify.test_notify_process import Receiver
from tests.supervisor_harness import relocated_conf
from tools.service import FAILED_UNIT, UNIT, unit_files, unit_text
from tools.service_passphrase import filesystem_of

pytestmark = pytest.mark.slow
PROGRAMS = {"simulator", "engine"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: it only waits for its parent to read its status
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _running(sock: Path) -> dict[str, int] | None:
    """Each program's pid once all of PROGRAMS run (None before)."""
    try:
        rpc = ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{sock}"))
        infos: list[dict[str, Any]] = rpc.supervisor.getAllProcessInfo()  # type: ignore[assignment]  # XML-RPC is untyped
    except (OSError, Fault):
        return None
    pids = {i["name"]: i["pid"] for i in infos if i["statename"] == "RUNNING" and i["pid"]}
    return pids if set(pids) >= PROGRAMS else None


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    conf = relocated_conf(tmp_path, PROGRAMS, {"program:engine": {"startsecs": "1"}})
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(_free_port()), LOG_LEVEL="WARNING")
    yield conf, env
    pidfile = tmp_path / "var" / "run" / "supervisord.pid"  # whatever a failed test left running
    if pidfile.exists() and _alive(pid := int(pidfile.read_text().strip() or 0)):
        os.kill(pid, signal.SIGKILL)


def _all_gone(pids: list[int]) -> bool:
    return not any(_alive(pid) for pid in pids)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make (apt-get install make; .ci/run does it)")
def test_closing_make_runs_terminal_stops_everything(desk: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    conf, env = desk
    # `-o .venv/.installed`: the environment is set up already; never reinstall from a test.
    make = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "run", f"CONF={conf}"], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # its own group, as a terminal's foreground job
    try:
        programs = wait_until(lambda: _running(conf.parent / "var" / "run" / "supervisor.sock"), 90, 0.2,
                              "the desk running under make run")
        supervisord = int((tmp_path / "var" / "run" / "supervisord.pid").read_text())
        pids = [supervisord, *programs.values()]
        os.killpg(make.pid, signal.SIGHUP)  # the terminal closes
        wait_until(lambda: _all_gone(pids), 60, 0.2, "supervisord and every program gone after SIGHUP")
        make.wait(30)
        log = (tmp_path / "var" / "log" / "supervisord.log").read_text()
        assert "received SIGTERM" in log and "received SIGHUP" not in log  # stopped, never reloaded
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(10)


def test_the_service_unit_is_valid_and_runs_a_desk_that_recovers_and_stops(
        desk: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    conf, env = desk
    units = tmp_path / "units"
    done = subprocess.run([sys.executable, "-m", "tools.service", "install", "--no-start", "--unit-dir", str(units)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (units / UNIT).read_text()
    assert text == unit_text() and {p.name: p.read_text() for p in units.iterdir()} == unit_files()
    if shutil.which("systemd-analyze") is not None:
        assert "systemd-analyze verify: the unit is valid" in done.stdout
    else:
        assert "systemd-analyze is not installed here" in done.stdout
    exec_start = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart="))
    command = shlex.split(exec_start)
    assert command[-1] == str(ROOT / "supervisord.conf")
    # The unit's own command, on a relocated configuration (the checkout's var/ is the operator's), started as
    # systemd starts it: no terminal, a session of its own.
    service = subprocess.Popen([*command[:-1], str(conf)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    sock = conf.parent / "var" / "run" / "supervisor.sock"
    try:
        programs = wait_until(lambda: _running(sock), 90, 0.2, "the service's desk running")
        os.kill(programs["engine"], signal.SIGKILL)  # a crash: supervisord starts it again
        again = wait_until(lambda: (p := _running(sock)) and p["engine"] != programs["engine"] and p, 60, 0.2,
                           "the engine restarted")
        supervisord = int((tmp_path / "var" / "run" / "supervisord.pid").read_text())
        service.send_signal(signal.SIGTERM)  # `systemctl --user stop`: SIGTERM to the main process
        assert service.wait(60) == 0
        assert _all_gone([supervisord, *again.values()])
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGKILL)
            service.wait(10)


@pytest.mark.parametrize("broken", [{}, {"DATA_SOURCE": "bogus"}])
def test_the_failure_unit_tells_the_operator_even_when_the_settings_do_not_load(
        tmp_path: Path, broken: dict[str, str]) -> None:
    """Its command, as systemd runs it once the service failed for good (with the MONITOR_* variables
    systemd passes): the notice reaches NOTIFY_URLS, and names a setting that does not load."""
    receiver = Receiver()
    try:
        env = isolated_env(tmp_path, NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/hook",
                           MONITOR_SERVICE_RESULT="exit-code", MONITOR_EXIT_CODE="exited", MONITOR_EXIT_STATUS="1",
                           **broken)
        exec_start = next(line.split("=", 1)[1] for line in unit_files()[FAILED_UNIT].splitlines()
                          if line.startswith("ExecStart="))
        done = subprocess.run(shlex.split(exec_start), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        told = receiver.wait_for(lambda m: "systemd stopped restarting it" in m.get("title", ""), 30, "the notice")
        assert "exit_status 1" in told["message"] and "systemd tries again at" in told["message"]
        assert ("DATA_SOURCE must be" in told["message"]) is bool(broken)
        assert "hook" not in done.stderr  # the destination's URL is never logged
    finally:
        receiver.close()


@pytest.mark.skipif(filesystem_of(Path("/dev/shm")) != "tmpfs", reason="no tmpfs at /dev/shm here")
def test_make_service_warns_of_a_passphrase_gone_after_a_reboot(tmp_path: Path) -> None:
    """`make service`'s install, with the keystore's passphrase on a tmpfs: it says the service would
    start at boot without its key, and where to keep it instead; it still installs the unit."""
    passphrase = Path(tempfile.mkstemp(dir="/dev/shm", prefix="desk-pass-")[1])
    try:
        passphrase.chmod(0o600)
        env = isolated_env(tmp_path, POLY_KEYSTORE=str(tmp_path / "keystore.json"),
                           POLY_KEYSTORE_PASSWORD_FILE=str(passphrase))
        done = subprocess.run([sys.executable, "-m", "tools.service", "install", "--no-start", "--unit-dir",
                               str(tmp_path / "units")], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
    finally:
        passphrase.unlink()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"warning: POLY_KEYSTORE_PASSWORD_FILE ({passphrase}) is on a tmpfs, emptied at every reboot" \
        in done.stderr, done.stderr
    assert "~/.config/polymarket-desk/passphrase" in done.stderr
    assert (tmp_path / "units" / UNIT).exists()
