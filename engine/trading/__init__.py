"""The trading loop: markets and books in, decisions out, orders through the risk gate.

`core` runs the loop (feeds → strategies → risk gate → executor) and `core_state` restores its
start-up state; `catalog` knows the markets, `views` freezes what a strategy sees, and
`strategy_host` runs the configured strategies. The operator's actions (`operator_actions`:
flatten, cancel, the manual ticket of `contracts/ticket`), market resolution (`resolution`), whole arbs
(`arbs`), exits and order ageing (`exits`) and the watchdog alerts (`watch`) act on the core
through `parts.CoreParts`, so none of them imports the core.
"""
