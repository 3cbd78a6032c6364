"""Market data at rest: `recorder` writes the live feed to the recording tables a backtest
replays, `history` imports past prices from Polymarket's public price history."""
