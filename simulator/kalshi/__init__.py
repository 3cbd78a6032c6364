"""Kalshi's Trade API v2, served on the simulator's one port beside Polymarket's.

REST under ``/trade-api/v2`` (markets, events, order books, the portfolio: balance, orders,
fills, positions, settlements), requests signed the way Kalshi signs them (RSA-PSS over
timestamp + method + path), prices in whole cents, Kalshi's fee curve, its Basic tier's read
and write limits, post-only and self-trade rules, and settlement as a cash event. Keys are
registered the way Kalshi's key page does it, by an admin call (``POST /_sim/kalshi/api-keys``).
The rules come from Kalshi's public documentation (simulator/README.md says where the
simulator is stricter, or guesses, and why).
"""
