"""The average-cost rule for a holding, in integer micro-units: the one place it lives. The engine's
ledger (engine/execution/ledger.py) books every fill through it, and the dashboard's per-fill and
round-trip PnL (storage/dashboard_queries/trade_queries.py) read fills back through it, so a page
can never show a realized PnL the ledger did not book."""

from __future__ import annotations

from contracts.domain import notional


def sell_step(held: int, cost: int, price: int, size: int) -> tuple[int, int]:
    """Selling `size` shares at `price` from `held` shares that cost `cost`: (the cost basis the
    sale removes, the PnL it realizes before fees). A sale of more than is held removes the whole
    basis; a sale from nothing removes none (its whole proceeds are realized)."""
    removed = cost * min(size, held) // held if held > 0 else 0
    return removed, notional(price, size) - removed
