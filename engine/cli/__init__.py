"""The command line (`python -m engine …`): `engine/main.py`, above this package,
parses and dispatches; `desk` answers status,
commands, alerts and the log tail from sqlite3 alone (fast over SSH); `research` runs backtests
and history imports, `sweep` parameter sweeps, `preflight` the going-live check, `seed` the
demo strategies; `args`, `errors` and `progress` are what they share."""
