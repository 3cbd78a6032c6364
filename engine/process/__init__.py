"""The engine process: what keeps it alive and steerable, independent of trading.

`runtime` runs the process (event loop, heartbeat, signals); `lifecycle` holds the engine's
states and their legal moves; `control` applies start/pause/stop/kill to the trading core;
`commands` claims the operator's commands from SQLite and answers them (the engine's row is
storage/engine_stores/engine_state.py's); `scheduler` runs periodic jobs; `trading_seam` is the narrow protocol
the process drives the trading machinery through, and `wiring` builds it. (The redacted JSON
logging is engine/logs.py and the test crash points engine/failpoints.py: both are used below
this package.)
"""
