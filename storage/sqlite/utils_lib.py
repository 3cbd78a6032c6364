"""sqlite-utils, imported without the pandas and numpy it would load beside it.

sqlite-utils (4.2) imports pandas and numpy at module load whenever they are installed, only to
map their scalar types to column types. The desk never hands it a pandas or numpy value: its
migrations write DDL and the recorder inserts ints, floats and text into an existing table. Yet
that import cost the engine about 1.1 s of CPU at every start, a third of its imports (measure:
`python -X importtime -c "import engine.process.runtime"`), and the same for every command that
opens the migrations. Both processes import sqlite-utils from here; a process that has pandas
loaded already, or runs threads already (the dashboard), is unaffected, and pandas imports
normally afterwards.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

OPTIONAL_TYPES_OF = ("pandas", "numpy")


@contextmanager
def _optional_types_hidden() -> Iterator[None]:
    """Inside: `import pandas` and `import numpy` raise ImportError (a None in sys.modules does
    that), unless already imported; afterwards both import as usual. Only while the process has
    one thread: another thread's first `import pandas` inside the window would fail (a dashboard
    serving two sessions), so there sqlite-utils simply loads them."""
    alone = threading.active_count() == 1
    hidden = [name for name in OPTIONAL_TYPES_OF if alone and name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None in sys.modules is Python's "not importable"
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]


with _optional_types_hidden():
    from sqlite_utils import Database, Migrations

__all__ = ["Database", "Migrations"]
