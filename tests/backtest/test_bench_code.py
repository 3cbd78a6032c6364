"""`bench/backtest.py --code DIR` replays on another checkout's code: when that replay fails, the
bench says why (the child's own exception), not `CalledProcessError ... exit status 1`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from _yardsticks import line, nautilus_line  # noqa: E402


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


def test_without_hftbacktest_the_yardstick_says_skipped_and_how_to_get_it(tmp_path: Path) -> None:
    """The bench prints its own figures and names the yardstick it could not run, with the
    command that installs it (it never installs anything unasked: that needs the network)."""
    absent = tmp_path / "no-venv"
    done = subprocess.run([sys.executable, "bench/backtest.py", "--events", "2000", "--markets", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "BENCH_HFTBACKTEST_VENV": str(absent),
                               "BENCH_NAUTILUS_VENV": str(tmp_path / "no-nautilus")})
    assert done.returncode == 0, done.stderr
    assert "default cadence:" in done.stdout and "one decision:" in done.stdout
    # The default cadence is the recorded markers' (2,000 market events, one every 100): the desk decides on
    # events by default, and a replay left to it would count thousands of decisions here.
    assert re.search(r"default cadence: [\d,]+ events, 2\d decisions", done.stdout), done.stdout
    assert re.search(r"fills \(.*by tenth of the replay \[", done.stdout)
    assert f"hftbacktest: skipped (no {absent}: run once with --install-hftbacktest (needs the network))" \
           in done.stdout
    assert f"NautilusTrader: skipped (no {tmp_path / 'no-nautilus'}: run once with --install-nautilus (needs the " \
           "network))" in done.stdout
    assert not absent.exists()


def test_the_yardstick_line_says_plainly_whether_each_target_is_met() -> None:
    """Issue 74's two targets beside hftbacktest, each with its ratio and met or MISSED: the desk's whole
    process against hftbacktest's (>= 1.0x, its compile included) and the replay alone (<= 4x)."""
    theirs = {"events": 1000, "decisions": 10, "orders": 4, "fills": 2, "wall_s": 6.0, "load_s": 0.2,
              "compile_s": 4.8, "replay_s": 1.0, "prepare_s": 2.0}
    fast = line(theirs, {"wall_s": 5.0, "replay_s": 3.5})
    assert "whole process: the desk 5.0 s, 1.20x hftbacktest's wall (1.60x with its conversion) (target >= 1.0x: met)" \
        in fast
    assert "replay alone: the desk 3.5 s, 3.5x hftbacktest's replay alone (target <= 4x: met)" in fast
    slow = line(theirs, {"wall_s": 12.0, "replay_s": 4.5}, "on events")
    assert "0.50x hftbacktest's wall (0.67x with its conversion) (target >= 1.0x: MISSED)" in slow
    assert "4.5x hftbacktest's replay alone (target <= 4x: MISSED) [on events]" in slow


def test_the_nautilus_line_says_whether_the_desk_is_twice_its_speed() -> None:
    """Issue 90's target beside NautilusTrader: the desk's whole process at least twice its speed."""
    theirs = {"events": 1000, "decisions": 10, "orders": 4, "fills": 2, "wall_s": 9.0, "load_s": 1.0,
              "compile_s": 0.0, "replay_s": 7.0, "prepare_s": 3.0}
    met = nautilus_line(theirs, {"wall_s": 4.0}, "on events")
    assert "the desk 4.0 s, 2.25x NautilusTrader's speed (its wall 9.0 s; target on the wall >= 2.0x: met) " \
           "[on events]" in met
    assert "converting the recording into its data beforehand 3.0 s" in met
    assert "target on the wall >= 2.0x: MISSED" in nautilus_line(theirs, {"wall_s": 5.0})
