"""SQLite for both processes: the only place SQL is written (docs/module-map.md)."""
