"""Notifications through apprise: alerts, the daily summary and test messages, delivered from the
engine process on a thread of their own (never on the trading loop). See notifier.py."""
