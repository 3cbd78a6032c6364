"""The trading loop: markets and books in, decisions out, orders through the risk gate.

`core` makes the decisions (feeds → strategies → risk gate → executor) and `core_state` restores
its start-up state; `venue_link` owns the venue and the feeds (the executor, discovery, fee
schedules, subscriptions, marks), `lookout` the watch's wiring, `selection` each strategy's
markets, `jobs` the scheduled work, `views` what a strategy sees and `strategy_host` the
configured strategies. The operator's actions (`operator_actions`: flatten, cancel, the manual
ticket of `contracts/ticket`), market resolution (`resolution`), whole arbs (`arbs`), exits and
order ageing (`exits`), selling (`selling`) and collections are given the collaborators they
need (the venue link, the risk monitor, the strategy host, the exit book), never the core.
"""
