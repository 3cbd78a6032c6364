"""`bench/backtest.py --code DIR` replays on another checkout's code: when that replay fails, the
bench says why (the child's own exception), not `CalledProcessError ... exit status 1`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_failing_replay_on_other_code_shows_the_childs_error(tmp_path: Path) -> None:
    not_a_checkout = tmp_path / "old"
    not_a_checkout.mkdir()
    done = subprocess.run([sys.executable, "bench/backtest.py", "--events", "2000", "--markets", "2",
                           "--code", str(not_a_checkout)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"the replay with the code in {not_a_checkout} failed (exit 1): ModuleNotFoundError: No module named " \
           "'engine'" in done.stderr
    assert "must be a checkout of this project" in done.stderr
    assert "CalledProcessError" not in done.stderr + done.stdout and "Traceback" not in done.stderr
