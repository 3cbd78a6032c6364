"""A real `streamlit run` on 127.0.0.1 for the browser tests and the dashboard benchmarks: the flags
supervisord starts the dashboard with, a free port, its output in a log, and nothing left running."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.browser.cdp import free_port
from tests.browser.navigation import healthy
from tests.helpers import ROOT, wait_until

FLAGS = ("--server.headless=true", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
         "--server.fileWatcherType=none", "--client.toolbarMode=viewer")


@contextmanager
def streamlit(script: str | Path, env: dict[str, str], log: Path, *, cwd: Path = ROOT,
              runner: Sequence[str] = ("-m", "streamlit")) -> Iterator[tuple[str, int]]:
    """`python <runner> run <script>` serving on a free port until the block ends: its address and pid
    (`runner`: another entry point in front of Streamlit's, e.g. tests/browser/sql_trace.py)."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, *runner, "run", str(script), *FLAGS, f"--server.port={port}"],
                                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: healthy(url), 90, 0.25, f"{script}'s /_stcore/health")
            yield url, proc.pid
        finally:
            proc.kill()
            proc.wait(10)
