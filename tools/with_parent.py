"""Run a command that dies with its parent: `python -m tools.with_parent SIGNAL -- COMMAND ...`.

supervisord starts every program through this. It asks Linux to send SIGNAL to the program
the moment supervisord goes away (PR_SET_PDEATHSIG survives the exec below), then becomes
the program. So however `make run` ends (Ctrl-C with `| tee`, a closed terminal, `kill -9`
of supervisord), nothing it started keeps running or keeps its port. Elsewhere than Linux
it simply runs the command.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m tools.with_parent SIGNAL -- COMMAND [ARGS...]")
    signum = int(getattr(signal, f"SIG{argv[0].upper().removeprefix('SIG')}"))
    parent = os.getppid()
    die_with_parent(signum)
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit(1)
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
