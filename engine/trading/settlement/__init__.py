"""What ends a position in cash: resolutions, collections (redeem, merge, what the venue paid),
merging complete sets, Kalshi's netting and voids, liquidity rewards.
"""
