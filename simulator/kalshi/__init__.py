"""Kalshi's Trade API v2 as it answers today, served on the simulator's one port beside Polymarket's.

REST under ``/trade-api/v2`` (the exchange's status and schedule, markets, events, series, order
books, trades, the portfolio: balance, orders, fills, positions, settlements, the V2 order
endpoints; the retired V1 ones answer 410) and the WebSocket's book and account channels, in
Kalshi's fixed-point shapes; requests signed the way Kalshi signs them (RSA-PSS over timestamp +
method + path); each market's price grid, fractional counts, Kalshi's fees per fill with its
rounding, its token-bucket rate limits, post-only and self-trade rules, market lifecycle,
pauses, and settlement as a cash event. Keys are
registered the way Kalshi's key page does it, by an admin call (``POST /_sim/kalshi/api-keys``).
The rules come from Kalshi's public documentation (simulator/README.md says where the
simulator is stricter, or guesses, and why).
"""
