"""Transitional alias of bench/_recording.py, kept only because tests/dashboard/test_backtest_launch.py
still imports `recording`; delete it once that test imports `_recording`. Not a benchmark: run as a
script it imports and exits."""

from _common import ROOT  # noqa: F401  (puts the project on sys.path when run as a script)
from _recording import write_recording  # noqa: F401
