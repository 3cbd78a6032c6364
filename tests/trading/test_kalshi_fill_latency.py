"""A Kalshi fill reaches the live ledger within 100 ms on the simulator (issue 55, item 6): the bench
`bench/kalshi_fill_latency.py`, run as a user runs it, streams each fill from Kalshi's `fill` channel to
the ledger; its baseline, the REST reconcile alone, takes about a second."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow


def test_a_kalshi_fill_reaches_the_ledger_within_100_ms() -> None:
    done = subprocess.run([sys.executable, "bench/kalshi_fill_latency.py", "--runs", "15", "--baseline-runs", "3",
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    line, figures = done.stdout.strip().splitlines()[-2:]
    assert "Kalshi fill -> live ledger (streamed)" in line and "target p50 <= 100 ms" in line
    measured = json.loads(figures)
    assert measured["p50_ms"] <= 100, line
    assert measured["baseline_p50_ms"] > 300  # the REST reconcile alone is what the stream replaced
