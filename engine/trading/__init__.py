"""The trading loop: markets and books in, decisions out, orders through the risk gate.

`core` joins the sub-packages, each an idea on a floor of its own (tests/test_layering.py,
TRADING_FLOORS): `ledgers` (venue links), `hosting` (the strategies and what they see), `exits`,
`operator` (the operator's actions), `settlement`, `lookouts`, and `passes` (the pass and its
scheduling). `parts` is what they share. Each module is given the collaborators it needs (the venue
link, the risk monitor, the strategy host, the exit book), never the core.
"""
