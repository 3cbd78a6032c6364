"""Run a program with every SQL statement its SQLite connections execute written to a file: the
dashboard as supervisord starts it, watched from outside (`python -m tests.browser.sql_trace TRACE
run app.py ...` runs `streamlit run app.py ...`). Each line: the time (epoch s), a tab, the statement."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any


def trace_into(path: Path) -> None:
    """Every sqlite3 connection opened from now on writes what it executes to `path`."""
    lock = threading.Lock()
    out = open(path, "a", buffering=1)
    real = sqlite3.connect

    def write(statement: str) -> None:
        with lock:
            out.write(f"{time.time():.3f}\t{' '.join(statement.split())}\n")

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real(*args, **kwargs)
        conn.set_trace_callback(write)
        return conn

    # The module's and its dbapi2's (which SQLAlchemy's dialect calls): the same function, two names.
    sqlite3.connect = sqlite3.dbapi2.connect = connect  # type: ignore[assignment]  # a tracing wrapper of the same call


def read_trace(path: Path, since: float = 0.0) -> list[str]:
    """The statements traced at or after `since` (epoch s)."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text(errors="replace").splitlines():
        at, _, statement = line.partition("\t")
        if float(at) >= since:
            found.append(statement)
    return found


if __name__ == "__main__":
    trace_into(Path(sys.argv[1]))
    from streamlit.web.cli import main

    sys.argv = ["streamlit", *sys.argv[2:]]
    main()
