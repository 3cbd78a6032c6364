"""The engine: the trading process and what it runs (docs/module-map.md)."""

import contracts  # noqa: F401  (first: the compiled core's finder, contracts/compiled_core.py)
