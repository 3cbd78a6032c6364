"""The average-cost rule for a holding, in integer micro-units: the one place it lives. The engine's
ledger (engine/execution/ledger.py) books every fill through it, and the dashboard's per-fill and
round-trip PnL (storage/dashboard_queries/trade_queries.py) read fills back through it, so a page
can never show a realized PnL the ledger did not book."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.domain import notional


def sell_step(held: int, cost: int, price: int, size: int) -> tuple[int, int]:
    """Selling `size` shares at `price` from `held` shares that cost `cost`: (the cost basis the
    sale removes, the PnL it realizes before fees). A sale of more than is held removes the whole
    basis; a sale from nothing removes none (its whole proceeds are realized)."""
    removed = cost * min(size, held) // held if held > 0 else 0
    return removed, notional(price, size) - removed


@dataclass
class Lot:
    """One strategy's holding of one token as a trade reads it: shares, their cost basis, and the fees paid
    buying them (the entry fees still attached to the shares held). The desk's one definition of a trade's
    PnL is after fees: a sale's PnL is what it realized less its own fee and the entry fees of the shares it
    sold (their share of those held), so a holding bought and sold off reads, summed over its sales, its
    realized PnL less every fee it paid: what Round trips, the exit's answer and a strategy's figures say."""

    held: int = 0
    cost: int = 0
    entry_fees: int = 0

    def step(self, side: str, price: int, size: int, fee: int) -> int | None:
        """Apply one fill (side "BUY" or "SELL"); for a sale, the PnL it realized after fees."""
        if side == "BUY":
            self.held, self.cost, self.entry_fees = self.held + size, self.cost + notional(price, size), \
                self.entry_fees + fee
            return None
        removed, realized = sell_step(self.held, self.cost, price, size)
        entry = self.entry_fees * min(size, self.held) // self.held if self.held > 0 else 0
        self.held, self.cost, self.entry_fees = max(0, self.held - size), self.cost - removed, self.entry_fees - entry
        return realized - fee - entry
