"""Market data at rest: `recorder` writes the live feed to the recording tables a backtest replays, and
rolls each token's candles (`candle_backfill` rolls those recorded before it did); a venue's public history
and archive imports are its package's (engine/venues/<venue>/)."""
