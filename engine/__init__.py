"""The engine: the trading process and what it runs (docs/module-map.md)."""
