"""The contracts the engine, the dashboard and storage share: the floor below `engine/` and `storage/`.

Both processes read and write the same SQLite tables; these modules say what may be in them
and how a value is checked, so the dashboard refuses what the engine would refuse:

- `limits`, `strategy_limits`: the global and per-strategy risk limits (names, units, bounds,
  parsing) and reading them back;
- `runtime_settings`: the engine settings edited from the dashboard, with their checks;
- `params`, `market_filter`, `strategy_kinds`, `strategy_schemas/`: strategy parameter schemas,
  the market filter, and the strategy kinds (one schema module per kind, with its cross-field
  checks) with their parameter validation; the strategies import these, never the reverse;
- `order_status`: order and fill statuses and their ranks;
- `venue_rules`, `expiry`, `ticket`: the venue's price grid, lots and taker fee, a GTD expiry's
  bounds, and the manual order ticket (parsed and previewed the same way by the page and by the
  engine);
- `metrics`: performance metrics of an equity curve (backtests, and each strategy live);
- `backtest_spec`, `sweep_spec`: what a backtest or a sweep is asked to do (the run row both
  processes write is storage/research/backtest_runs.py's);
- `log_format`, `redaction`: the engine's log lines and how secrets are hidden in them.
- `settings`: the desk's settings from the environment and `.env` (secrets stay there);
  `passwords`: the dashboard password's scrypt hash and writing it to `.env`; `jsonsafe`: JSON
  read with bounds on size and nesting (stored rows, files, command payloads);
  `command_kinds`: every operator command kind, with its claim priority, payload schema and the
  engine part that applies it (the one registry the queue, the front ends and the engine read).

A layering test (tests/test_layering.py) fails if `pages/` imports any other engine module.
"""
