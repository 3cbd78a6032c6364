"""The pass and its scheduling: decisions on events (what marks a market, the schedule that
decides it), the other ledgers' passes (paper-only strategies on a live desk, a
ledger on another venue), cross-venue legs, the periodic jobs and the state restored at start-up.
"""
