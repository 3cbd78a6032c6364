"""The desk as a service of your user account: `make service` (`python -m tools.service install`).

A VPS reboots and an SSH session drops; `make run` lives only as long as its terminal. This writes a
systemd unit for your user (`~/.config/systemd/user/polymarket-desk.service`) that runs exactly what
`make run` runs (`engine init`, the optional programs' include, then supervisord under
tools/run_desk.py), checks it with systemd's own checker (`systemd-analyze verify`, when installed),
enables and starts it, and asks logind to keep your user's services running without a login
(`loginctl enable-linger`), so the desk starts at boot (where that is refused, the desk starts at
your first login and stops when your last session closes: the installer says so). systemd restarts
it if supervisord itself dies; supervisord restarts a crashed program, and the engine's crash-loop
guard and the watchdog's death notice work as under `make run` (the same supervisord.conf).
`systemctl --user stop polymarket-desk` stops it in order (SIGTERM: each program stops as with
Ctrl-C), within TimeoutStopSec: the sum of every program's stopwaitsecs in supervisord.conf and
supervisord.optional.conf (supervisord stops them one after the other), and a margin.

It never gives up silently. Should its start fail START_LIMIT_BURST times within
START_LIMIT_INTERVAL_S (`engine init` failing in `ExecStartPre`, say), systemd stops restarting it
and, through `OnFailure=`, runs two units written beside it: polymarket-desk-failed.service tells
the operator through NOTIFY_URLS (`python -m engine service-failed`: the watchdog that would say it
runs inside the service that is down), and polymarket-desk-retry.timer starts the service again
RETRY_AFTER_MIN minutes later, for as long as it fails.

    python -m tools.service install [--no-start]   write, check, enable and start it
    python -m tools.service print                  the units, to read or install by hand
    python -m tools.service uninstall              stop, disable and remove them
"""

from __future__ import annotations

import argparse
import configparser
import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools.service_passphrase import passphrase_problems

ROOT = Path(__file__).resolve().parent.parent
UNIT = "polymarket-desk.service"
FAILED_UNIT = "polymarket-desk-failed.service"  # tells the operator (OnFailure=)
RETRY_TIMER = "polymarket-desk-retry.timer"  # starts the service again later (OnFailure=)
START_LIMIT_BURST, START_LIMIT_INTERVAL_S = 5, 600  # failed starts after which systemd stops restarting it
RETRY_AFTER_MIN = 15  # ... and when the timer starts it again: past the interval, so systemd takes the start
SUPERVISOR_CONFS = ("supervisord.conf", "supervisord.optional.conf")
SUPERVISOR_STOPWAIT_S = 10  # supervisord's stopwaitsecs when a program's section does not set it
STOP_MARGIN_S = 30  # beyond the programs' stop waits: supervisord's own stop, each kill after its wait


def unit_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return config / "systemd" / "user"


def _quoted(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def stop_waits(root: Path = ROOT) -> dict[str, int]:
    """Each supervised program's stopwaitsecs, as supervisord reads them from its configurations (the
    optional programs' included: any of them may run)."""
    parser = configparser.RawConfigParser(strict=False, inline_comment_prefixes=(";",))
    parser.read([root / name for name in SUPERVISOR_CONFS])
    return {section: parser.getint(section, "stopwaitsecs", fallback=SUPERVISOR_STOPWAIT_S)
            for section in parser.sections() if section.startswith(("program:", "eventlistener:"))}


def stop_timeout_s(root: Path = ROOT) -> int:
    """How long systemd waits for the desk to stop before it kills what is left: supervisord stops
    its programs one after the other, each within its stopwaitsecs, so their sum, and a margin."""
    return sum(stop_waits(root).values()) + STOP_MARGIN_S


def unit_text(root: Path = ROOT, python: Path | None = None) -> str:
    python = python or root / ".venv" / "bin" / "python"
    return f"""# The Polymarket desk in {root}, as a service of your user account (tools/service.py).
[Unit]
Description=Polymarket desk: supervisord with the engine, the dashboard and the watchdog ({root})
StartLimitIntervalSec={START_LIMIT_INTERVAL_S}
StartLimitBurst={START_LIMIT_BURST}
# When systemd stops restarting it: the operator is told, and it is started again later.
OnFailure={FAILED_UNIT} {RETRY_TIMER}

[Service]
Type=simple
WorkingDirectory={root}
Environment=PYTHONUNBUFFERED=1
ExecStartPre={_quoted(python)} -m engine init
# the optional programs the settings ask for, into the include supervisord.conf reads (as make run)
ExecStartPre={_quoted(python)} -m tools.optional_programs
ExecStart={_quoted(python)} -m tools.run_desk {_quoted(root / "supervisord.conf")}
# SIGTERM to tools/run_desk.py, which stops supervisord in order (each program within its
# stopwaitsecs); whatever is left after TimeoutStopSec (their sum and a margin) is killed.
KillMode=mixed
TimeoutStopSec={stop_timeout_s(root)}
Restart=on-failure
RestartSec=10

[Install]
WantedBy=default.target
"""


def failed_unit_text(root: Path = ROOT, python: Path | None = None) -> str:
    python = python or root / ".venv" / "bin" / "python"
    return f"""# Run by {UNIT} when systemd stops restarting it (OnFailure=; tools/service.py).
[Unit]
Description=Polymarket desk: tell the operator its service failed ({root})

[Service]
Type=oneshot
WorkingDirectory={root}
Environment=PYTHONUNBUFFERED=1
ExecStart={_quoted(python)} -m engine service-failed --unit {UNIT} --retry-after-min {RETRY_AFTER_MIN}
TimeoutStartSec=120
"""


def retry_timer_text(root: Path = ROOT) -> str:
    return f"""# Started by {UNIT} when systemd stops restarting it (OnFailure=; tools/service.py): it starts
# the service again {RETRY_AFTER_MIN} minutes later, past its start limit's interval.
[Unit]
Description=Polymarket desk: start its failed service again ({root})

[Timer]
OnActiveSec={RETRY_AFTER_MIN}min
RemainAfterElapse=no
Unit={UNIT}
"""


def unit_files(root: Path = ROOT, python: Path | None = None) -> dict[str, str]:
    """Each unit's file name and text."""
    return {UNIT: unit_text(root, python), FAILED_UNIT: failed_unit_text(root, python),
            RETRY_TIMER: retry_timer_text(root)}


def verify(*paths: Path) -> tuple[bool | None, str]:
    """systemd's own check of the unit files: (True, "") when they pass, (False, its complaint), or
    (None, why it was not run) where systemd-analyze is not installed."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return None, "systemd-analyze is not installed here: the unit was not checked (apt-get install systemd)"
    done = subprocess.run([analyze, "verify", *map(str, paths)], capture_output=True, text=True, timeout=60)
    said = (done.stdout + done.stderr).strip()
    return done.returncode == 0, said


def _systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=120)


def install(directory: Path, *, start: bool) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in unit_files().items():
        (directory / name).write_text(text)
        paths.append(directory / name)
        print(f"wrote {directory / name}")
    for problem in passphrase_problems():  # a key the service could not unlock after a reboot
        print(f"warning: {problem}", file=sys.stderr)
    ok, said = verify(*paths)
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
    print(f"started: systemctl --user status {UNIT}; should its start fail {START_LIMIT_BURST} times within "
          f"{START_LIMIT_INTERVAL_S // 60} min, NOTIFY_URLS is told and it is started again {RETRY_AFTER_MIN} min "
          "later, for as long as it fails")
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
              f"boot, and it STOPS when the last session of {user} closes (logging out of SSH stops it, live "
              f"trading included); to fix it: sudo loginctl enable-linger {user}", file=sys.stderr)


def uninstall(directory: Path) -> int:
    if shutil.which("systemctl") is not None:
        _systemctl("stop", RETRY_TIMER)
        _systemctl("disable", "--now", UNIT)
    for name in unit_files():
        (directory / name).unlink(missing_ok=True)
        print(f"removed {directory / name}")
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
        print("\n".join(f"# --- {name}\n{text}" for name, text in unit_files().items()), end="")
        return 0
    if args.action == "uninstall":
        return uninstall(directory)
    return install(directory, start=not args.no_start)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
