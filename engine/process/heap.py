"""The engine's start-up heap, taken out of the garbage collector's full collections.

A full collection walks every object the collector tracks, and an engine that has imported the
signing stack, SQLAlchemy and its own modules and built its core holds a few hundred thousand of
them: in a quoting engine each full collection stopped the event loop for ~85-120 ms, about once a
minute (a book move landing in one waits that long). Those objects live as long as the process,
so they are frozen (`gc.freeze`) once the engine has booted: later collections walk only what was
made since. Cyclic garbage made after the freeze is collected as before; garbage among the frozen
objects would never be, which is why this runs once, after start-up, and not again.
`bench/gc_pause.py` measures the pause with and without the freeze.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("engine.heap")


def freeze_startup_heap() -> int:
    """Collect what start-up left behind, then freeze the rest; returns the objects frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("froze the start-up heap: full garbage collections skip it from now on", extra={"objects": frozen})
    return frozen
