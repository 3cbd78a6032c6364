"""Following chosen wallets: their public trades read from the Data API (poller.py)."""
