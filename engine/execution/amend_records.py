"""An amend of a resting order as the executor keeps it: its intent written before it is sent, its end
once the venue answered (or a lookup did), and the order's new terms (storage/engine_stores/order_amends.py
holds the SQL). Only the executor calls the writers here, on the connection of its own transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from storage.engine_stores import order_amends as amends_sql


@dataclass(frozen=True, slots=True)
class PendingAmend:
    """An amend written and not yet answered: the order's terms before and after (total sizes)."""

    id: int
    order_id: int
    old_price: int
    old_size: int
    price: int
    size: int
    decrease: bool
    created_at: int


def write_intent(conn: Connection, *, order_id: int, mode: str, venue: str, old_price: int, old_size: int,
                 price: int, size: int, decrease: bool, now: int) -> PendingAmend:
    amend_id = amends_sql.insert_amend(conn, order_id=order_id, mode=mode, venue=venue, old_price=old_price,
                                       old_size=old_size, price=price, size=size, decrease=decrease, now=now)
    return PendingAmend(amend_id, order_id, old_price, old_size, price, size, decrease, now)


def applied(conn: Connection, amend: PendingAmend, now: int, *, price: int | None = None,
            size: int | None = None) -> bool:
    """The venue took it: the order rests at its terms (or at `price`/`size`, as the venue shows them)."""
    if not amends_sql.end_amend(conn, amend.id, "applied", now):
        return False
    amends_sql.set_terms(conn, amend.order_id, amend.price if price is None else price,
                         amend.size if size is None else size, now)
    return True


def ended(conn: Connection, amend: PendingAmend, status: str, now: int, why: str) -> bool:
    """It ended without changing the order: `refused`, `lost` or `ended`."""
    return amends_sql.end_amend(conn, amend.id, status, now, why)


def pending(conn: Connection, mode: str, venue: str) -> list[PendingAmend]:
    return [PendingAmend(int(r["id"]), int(r["order_id"]), int(r["old_price"]), int(r["old_size"]), int(r["price"]),
                         int(r["size"]), bool(r["decrease"]), int(r["created_at"]))
            for r in amends_sql.pending(conn, mode, venue)]


def refused_orders(conn: Connection, mode: str, venue: str) -> set[int]:
    return amends_sql.refused_orders(conn, mode, venue)
