"""The strategies the desk hosts: their plugins, markets, memory and per-market state, and what each
sees (views, indicators, its own markouts).
"""
