"""SQLite for both processes: the only place SQL is written (docs/module-map.md)."""

import contracts  # noqa: F401  (first: the compiled core's finder, contracts/compiled_core.py)
