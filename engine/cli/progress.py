"""A small progress bar for long CLI work (backtests, history imports), on stderr.

On a terminal it redraws one line; otherwise (a log, a pipe) it prints a line every 10 %.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None):
        """`stream`: stderr as it is now (not as it was at import: a test's capture may have replaced it)."""
        self.label = label
        self.stream = stream = sys.stderr if stream is None else stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        fraction = 1.0 if total <= 0 else min(1.0, done / total)
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = (f"{self.label} [{'#' * int(fraction * WIDTH):<{WIDTH}}] {fraction:6.1%} "
                f"{done:,}/{total:,} ({rate:,.0f}/s)")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if fraction >= 1.0 else ""))
        elif int(fraction * 10) > self.last_decile:
            self.last_decile = int(fraction * 10)
            self.stream.write(line + "\n")
        self.stream.flush()
