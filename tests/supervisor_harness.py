"""Run the project's real supervisord.conf, relocated into a temp folder, for tests."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from xmlrpc.client import Fault, ServerProxy

from supervisor.xmlrpc import SupervisorTransport

from tests.helpers import ROOT, wait_until

VENV_BIN = Path(sys.executable).parent


def relocate(text: str, tmp: Path) -> str:
    """Supervisor configuration text with its var/ in `tmp` and this checkout's programs."""
    text = text.replace("%(here)s/var", str(tmp / "var")).replace("%(here)s/.venv/bin", str(VENV_BIN))
    return text.replace("%(here)s", str(ROOT))


def relocated_conf(tmp: Path, programs: set[str] | None, overrides: dict[str, dict[str, str]] | None = None, *,
                   optional_included: bool = False) -> Path:
    """The real supervisord.conf with its var/ in `tmp`, only `programs` (event listeners too, such
    as the watchdog, by name; the optional programs of supervisord.optional.conf too; None: all of
    supervisord.conf's), and overrides. With `optional_included`, the optional programs are left
    to the conf's include, as `make run` runs it (tmp/var/run/optional-programs.conf)."""
    text = (ROOT / "supervisord.conf").read_text()
    if not optional_included:  # the programs picked here, whichever file holds them
        text += "\n" + (ROOT / "supervisord.optional.conf").read_text()
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    parser.read_string(relocate(text, tmp))
    if not optional_included:
        parser.remove_section("include")
    for section in parser.sections():
        if (programs is not None and section.startswith(("program:", "eventlistener:"))
                and section.split(":", 1)[1] not in programs):
            parser.remove_section(section)
    for section, values in (overrides or {}).items():
        for key, value in values.items():
            parser.set(section, key, value)
    (tmp / "var" / "log").mkdir(parents=True, exist_ok=True)
    (tmp / "var" / "run").mkdir(parents=True, exist_ok=True)
    path = tmp / "supervisord.conf"
    with open(path, "w") as handle:
        parser.write(handle)
    return path


class Supervisor:
    def __init__(self, conf: Path, env: dict[str, str]):
        self.conf = conf
        self.sock = conf.parent / "var" / "run" / "supervisor.sock"
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "supervisord"), "-c", str(conf)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def rpc(self) -> ServerProxy:
        # A new proxy per call: one failed call leaves the transport unusable.
        return ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{self.sock}"))

    def info(self, name: str) -> Any:
        try:
            return self.rpc().supervisor.getProcessInfo(name)
        except (OSError, Fault):
            return None

    def wait_running(self, name: str, timeout: float = 30.0, not_pid: int | None = None) -> int:
        def running() -> int | None:
            info = self.info(name)
            if info and info["statename"] == "RUNNING" and info["pid"] and info["pid"] != not_pid:
                return int(info["pid"])
            return None

        return wait_until(running, timeout, interval=0.1, what=f"{name} RUNNING")

    def shutdown(self) -> None:
        try:
            self.rpc().supervisor.shutdown()
        except (OSError, Fault):
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        time.sleep(0.1)
