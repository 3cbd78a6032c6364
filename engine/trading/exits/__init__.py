"""The ways out of a position: selling (the one path, shared by flatten and every exit), the
strategies' exits (stop loss, take profit, order age) and their book, quotes withdrawn before a game
starts.
"""
