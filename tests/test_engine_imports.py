"""The engine's start-up imports stay light: no pandas, numpy or pyarrow (a second and a half of
CPU at every engine start, on a laptop or a small VPS, and at every supervised restart), no
dashboard library, and not the SQLModel mirror of the tables (contracts/tables: ~0.4 s of CPU a
start, a third of an engine's boot; the engine's SQL is plain text). The dashboard's frames live
apart from the SQL the engine runs (storage/research/markout_frames.py beside markout_queries.py),
and sqlite-utils is imported without its optional pandas (storage/sqlite/utils_lib.py) while the
process has one thread."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "pyarrow", "streamlit", "plotly", "sqlmodel")
# What `python -m engine run` imports before it trades (engine/main.py: cmd_run).
PROBE = f"""
import sys
import engine.main, engine.logs, engine.process.runtime, engine.process.wiring
import storage.sqlite.migrations, storage.engine_stores.tick_store
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
import pandas, sqlite_utils
print(len(pandas.DataFrame({{"a": [1, 2]}})), sqlite_utils.Database(memory=True)["t"].insert({{"a": 1}}).count)
"""


def test_the_engine_starts_without_pandas_and_pandas_still_imports_afterwards() -> None:
    found = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    heavy, after = found.stdout.splitlines()
    assert heavy == "", f"the engine's start-up imports {heavy}"
    assert after == "2 1"  # hidden only while sqlite-utils loaded: pandas and sqlite-utils work afterwards


# With a second thread running, the window stays shut: that thread's first `import pandas` must
# never meet the hidden module (the dashboard serves each session in a thread of its own).
THREADED = """
import sys, threading
release = threading.Event()
other = threading.Thread(target=release.wait)
other.start()
import storage.sqlite.utils_lib
release.set()
other.join()
print("pandas" in sys.modules)
"""


def test_with_other_threads_running_nothing_is_hidden() -> None:
    found = subprocess.run([sys.executable, "-c", THREADED], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "True"
