"""What watches the desk and alerts: feeds, venue and fills, balances against the ledger, fills
dark, resolutions under way, passes that keep failing.
"""
