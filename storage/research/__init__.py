"""Research data: recordings and sessions, history imports, backtest runs and their scratch ledger,
sweeps, markouts.
"""
