"""News in: RSS and Atom feeds polled on a thread of their own, their entries matched against the
operator's rules (contracts/news.py), matches written as expiring fair-value signals.

`fetch` gets one feed over HTTP, bounded in size and time; `entries` parses it with feedparser and
matches entries to rules with time-limited patterns; `store` writes signals, the entries seen and
each feed's status in one transaction; `poller` runs them on a schedule, off the trading loop.
"""
