"""The engine's stores: the tables the engine process writes (ledger, claims, catalog, risk, notifier,
news, ticks, the paper venue's book) and its own reads of them.
"""
