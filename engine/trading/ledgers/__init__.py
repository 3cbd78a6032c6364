"""A ledger's link to its venue: the venue and the feeds, the venue's phase and conditions, the
desk's own orders in the venue's books, reference prices, ticks, whole arbitrage sets, and the
exchange pauses and market endings of the venues whose policies have them.
"""
