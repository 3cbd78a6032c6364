"""The desk as a service of your user account: `make service` (`python -m tools.service install`).

A VPS reboots and an SSH session drops; `make run` lives only as long as its terminal. This writes a
systemd unit for your user (`~/.config/systemd/user/polymarket-desk.service`) that runs exactly what
`make run` runs (`engine init`, the optional programs' include, then supervisord under
tools/run_desk.py), checks it with systemd's own checker (`systemd-analyze verify`, when installed),
enables and starts it, and asks logind to keep your user's services running without a login
(`loginctl enable-linger`), so the desk starts at boot. systemd restarts it if supervisord itself
dies; supervisord restarts a crashed program, and the engine's crash-loop guard and the watchdog's
death notice work as under `make run` (the same supervisord.conf). `systemctl --user stop
polymarket-desk` stops it in order (SIGTERM: each program stops as with Ctrl-C).

    python -m tools.service install [--no-start]   write, check, enable and start it
    python -m tools.service print                  the unit, to read or install by hand
    python -m tools.service uninstall              stop, disable and remove it
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools.service_passphrase import passphrase_problems

ROOT = Path(__file__).resolve().parent.parent
UNIT = "polymarket-desk.service"


def unit_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return config / "systemd" / "user"


def _quoted(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(root: Path = ROOT, python: Path | None = None) -> str:
    python = python or root / ".venv" / "bin" / "python"
    return f"""# The Polymarket desk in {root}, as a service of your user account (tools/service.py).
[Unit]
Description=Polymarket desk: supervisord with the engine, the dashboard and the watchdog ({root})
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
Type=simple
WorkingDirectory={root}
Environment=PYTHONUNBUFFERED=1
ExecStartPre={_quoted(python)} -m engine init
# the optional programs the settings ask for, into the include supervisord.conf reads (as make run)
ExecStartPre={_quoted(python)} -m tools.optional_programs
ExecStart={_quoted(python)} -m tools.run_desk {_quoted(root / "supervisord.conf")}
# SIGTERM to tools/run_desk.py, which stops supervisord in order (each program within its
# stopwaitsecs); whatever is left after TimeoutStopSec is killed.
KillMode=mixed
TimeoutStopSec=90
Restart=on-failure
RestartSec=10

[Install]
WantedBy=default.target
"""


def verify(path: Path) -> tuple[bool | None, str]:
    """systemd's own check of the unit file: (True, "") when it passes, (False, its complaint), or
    (None, why it was not run) where systemd-analyze is not installed."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return None, "systemd-analyze is not installed here: the unit was not checked (apt-get install systemd)"
    done = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
    said = (done.stdout + done.stderr).strip()
    return done.returncode == 0, said


def _systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=120)


def install(directory: Path, *, start: bool) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / UNIT
    path.write_text(unit_text())
    print(f"wrote {path}")
    for problem in passphrase_problems():  # a key the service could not unlock after a reboot
        print(f"warning: {problem}", file=sys.stderr)
    ok, said = verify(path)
    if ok is False:
        print(f"systemd-analyze verify refused the unit:\n{said}", file=sys.stderr)
        return 1
    print("systemd-analyze verify: the unit is valid" if ok else said)
    if not start:
        print(f"not started (--no-start): systemctl --user daemon-reload && systemctl --user enable --now {UNIT}")
        return 0
    if shutil.which("systemctl") is None:
        print("systemctl is not installed here (no systemd): the unit is written but cannot run; use `make run` "
              "in tmux or screen instead", file=sys.stderr)
        return 1
    for args in (("daemon-reload",), ("enable", "--now", UNIT)):
        done = _systemctl(*args)
        if done.returncode != 0:
            print(f"systemctl --user {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}\n"
                  "(a user manager needs a login session: log in over SSH, not `su`)", file=sys.stderr)
            return 1
    print(f"started: systemctl --user status {UNIT}")
    _linger()
    print(f"logs: journalctl --user -u {UNIT} (the service), {ROOT / 'var' / 'log'} (each program; "
          ".venv/bin/supervisorctl -c supervisord.conf tail -f engine)")
    return 0


def _linger() -> None:
    """Keep the user's services running without a login, so the desk starts at boot."""
    user = getpass.getuser()
    done = subprocess.run(["loginctl", "enable-linger", user], capture_output=True, text=True, timeout=60) \
        if shutil.which("loginctl") else None
    if done is not None and done.returncode == 0:
        print(f"lingering enabled for {user}: the desk starts at boot, before anyone logs in")
    else:
        print(f"could not enable lingering for {user}: the desk starts at your first login after a boot, not at "
              f"boot; to fix it: sudo loginctl enable-linger {user}", file=sys.stderr)


def uninstall(directory: Path) -> int:
    if shutil.which("systemctl") is not None:
        _systemctl("disable", "--now", UNIT)
    (directory / UNIT).unlink(missing_ok=True)
    print(f"removed {directory / UNIT}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.service", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("install", "print", "uninstall"))
    parser.add_argument("--no-start", action="store_true", help="install: write and check the unit only")
    parser.add_argument("--unit-dir", type=Path, default=None, help=argparse.SUPPRESS)  # tests: a folder of theirs
    args = parser.parse_args(argv)
    directory = args.unit_dir or unit_dir()
    if args.action == "print":
        print(unit_text(), end="")
        return 0
    if args.action == "uninstall":
        return uninstall(directory)
    return install(directory, start=not args.no_start)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
