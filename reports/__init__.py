"""Results to keep: self-contained HTML reports (and CSV files) of backtests and sweeps, built
from the database with the same charts and tables the dashboard draws (charts/). Imported by
the dashboard's download buttons and by `python -m engine backtest ... --report`; it reads
storage and draws charts, and imports nothing of the dashboard or of the engine's machinery."""
