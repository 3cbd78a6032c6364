"""What ends a position in cash: resolutions, collections (redeem, merge, what the venue paid),
merging complete sets, the netting and void refunds of venues that do them (pair_netting,
void_refunds), liquidity rewards.
"""
