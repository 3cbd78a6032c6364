"""Starting a sweep's worker processes.

A worker is forked from the sweep process when it can be: the sweep has already imported the
trading core, Optuna and SQLAlchemy, so a forked worker starts at once and shares those pages
with its siblings, where a fresh interpreter spends about a second of CPU importing them again
(a second of every short sweep's wall time, and of each core). Forking is safe only from a
process with no other thread (a thread holding a lock at the fork leaves it held for ever in
the child), so elsewhere (a test runner's process, a platform without fork) each worker is a
fresh `python -c`.

Either way a worker lowers its priority (nice +10: the engine and the dashboard on the same
machine come first when they need a core), writes its output to its log, runs `target(*args)`,
and exits 1 with the message of a SweepError (its traceback for anything else).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

NICENESS = 10  # added to a worker's niceness


class Worker(Protocol):
    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...


class _Forked:
    """A forked worker behind Popen's interface."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(f"sweep worker {self._process.pid}", timeout or 0)
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def start(target: Callable[..., None], args: tuple[Any, ...], log: Path, env: dict[str, str]) -> Worker:
    """A worker running `target(*args)` (a module-level function; args that JSON carries) with
    `env` added to its environment and its output in `log`."""
    if can_fork():
        process = multiprocessing.get_context("fork").Process(target=_forked_main, args=(target, args, log, env))
        process.start()
        return _Forked(process)
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-c", f"from {__name__} import exec_main; exec_main()",
                                 target.__module__, target.__name__, json.dumps(args)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **env})


def _forked_main(target: Callable[..., None], args: tuple[Any, ...], log: Path, env: dict[str, str]) -> None:
    with open(log, "ab") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    with open(os.devnull, "rb") as nothing:
        os.dup2(nothing.fileno(), 0)
    os.environ.update(env)
    _run(target, args)


def exec_main() -> None:
    """A fresh interpreter's entry: argv is the target's module, its name, and its args as JSON."""
    module, name, args = sys.argv[1:4]
    _run(getattr(importlib.import_module(module), name), tuple(json.loads(args)))


def _run(target: Callable[..., None], args: tuple[Any, ...]) -> None:
    from contracts.sweep_spec import SweepError

    with contextlib.suppress(AttributeError, OSError):  # no os.nice on this platform: as it is
        os.nice(NICENESS)
    try:
        target(*args)
    except SweepError as exc:
        print(f"sweep worker: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
