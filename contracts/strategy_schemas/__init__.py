"""Each strategy kind's schema, one module per kind: what the kind is called, what it does, the
params it takes (with their bounds and units) and the checks between them. Pure values, so the
dashboard's editor, the CLI, sweeps and the engine validate the same way; `engine/strategies/`
imports these (a strategy's params are this schema's), and nothing here imports a strategy."""
