"""`make run`'s foreground process (and the service's, tools/service.py): supervisord, stopped with
everything it started however its terminal ends. `python -m tools.run_desk [supervisord.conf]`.

supervisord reads SIGHUP as "reload": it restarts every program and carries on. A closed terminal or
a dropped SSH session sends SIGHUP to the terminal's foreground process group, so a desk run in it
came back restarted instead of stopping (a live desk too). Here supervisord runs in a process group
of its own: the terminal's signals (Ctrl-C's SIGINT, a closed terminal's SIGHUP) and a service
manager's SIGTERM reach only this process, which answers each with SIGTERM to supervisord, its
orderly stop of every program (the engine cancels its strategies' orders first). supervisord dies
with this process too (tools/with_parent.py), so a `kill -9` of it leaves nothing behind either.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from tools.with_parent import die_with_parent

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def start(conf: str) -> subprocess.Popen[bytes]:
    supervisord = str(Path(sys.executable).with_name("supervisord"))
    return subprocess.Popen([supervisord, "-c", conf], process_group=0,
                            preexec_fn=lambda: die_with_parent(signal.SIGTERM))


def run(conf: str) -> int:
    child = start(conf)

    def stop(signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)  # supervisord's own orderly shutdown

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    return child.wait()  # supervisord bounds its own stop: each program's stopwaitsecs, then SIGKILL


def main(argv: list[str]) -> None:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        sys.exit("usage: python -m tools.run_desk [supervisord.conf]")
    sys.exit(run(argv[0] if argv else "supervisord.conf"))


if __name__ == "__main__":
    main(sys.argv[1:])
