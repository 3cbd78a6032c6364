"""What every front end (dashboard, CLI, Telegram bot) reads and sets about the desk: its status, lists
and lookups, configuration, the audit trail and alerts.
"""
