"""Standing orders as the engine keeps them (migration 0171): trailing stops and icebergs, one ledger
(venue, mode) at a time. The engine is their one writer (engine/trading/exits/trailing.py,
engine/trading/operator/icebergs.py); each write runs on the write transaction it is given.

An iceberg's progress is read from its slices, the ledger's `orders` rows whose `reason` names it: each
slice's row is written (with that reason) before the slice is sent, so what an iceberg placed and what
filled survive any crash with the ledger itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, text

from contracts.order_status import RANK, TERMINAL_RANK, OrderStatus

OPEN_TRAIL = ("ACTIVE", "TRIGGERED")


def iceberg_tag(iceberg_id: int) -> str:
    """What an iceberg's slices carry at the head of their `reason`."""
    return f"iceberg #{iceberg_id}"


# -- trailing stops ----------------------------------------------------------------------------------


def open_trails(conn: Connection, venue: str, mode: str) -> list[RowMapping]:
    """The ledger's trailing stops still guarding (ACTIVE) or selling (TRIGGERED), oldest first."""
    return list(conn.execute(text("""SELECT id, strategy, condition_id, token_id, outcome, distance, floor, shares,
                                            high_water, status, leave, detail FROM trailing_stops
                                     WHERE venue = :v AND mode = :m AND status IN ('ACTIVE', 'TRIGGERED')
                                     ORDER BY id"""), {"v": venue, "m": mode}).mappings())


def insert_trail(conn: Connection, *, venue: str, mode: str, strategy: str, condition_id: str, token_id: str,
                 outcome: str, distance: int, floor: int | None, shares: int | None, high_water: int, now: int,
                 by: str) -> int:
    row = conn.execute(text("""INSERT INTO trailing_stops (venue, mode, strategy, condition_id, token_id, outcome,
                                   distance, floor, shares, high_water, high_water_at, status, created_at, created_by,
                                   updated_at)
                               VALUES (:v, :m, :s, :c, :t, :o, :d, :f, :sh, :h, :now, 'ACTIVE', :now, :by, :now)
                               RETURNING id"""),
                       {"v": venue, "m": mode, "s": strategy, "c": condition_id, "t": token_id, "o": outcome,
                        "d": distance, "f": floor, "sh": shares, "h": high_water, "now": now, "by": by}).first()
    assert row is not None
    return int(row[0])


def raise_high_water(conn: Connection, trail_id: int, high: int, now: int) -> None:
    """The mark only ever rises (kept so by the statement too)."""
    conn.execute(text("""UPDATE trailing_stops SET high_water = :h, high_water_at = :now, updated_at = :now
                         WHERE id = :id AND status = 'ACTIVE' AND high_water < :h"""),
                 {"h": high, "now": now, "id": trail_id})


def set_trail_distance(conn: Connection, trail_id: int, distance: int, now: int) -> None:
    conn.execute(text("""UPDATE trailing_stops SET distance = :d, updated_at = :now
                         WHERE id = :id AND status = 'ACTIVE'"""), {"d": distance, "now": now, "id": trail_id})


def trigger_trail(conn: Connection, trail_id: int, *, bid: int, leave: int, detail: str, now: int) -> None:
    conn.execute(text("""UPDATE trailing_stops SET status = 'TRIGGERED', trigger_bid = :b, leave = :l, detail = :d,
                             triggered_at = :now, updated_at = :now WHERE id = :id AND status = 'ACTIVE'"""),
                 {"b": bid, "l": leave, "d": detail, "now": now, "id": trail_id})


def end_trail(conn: Connection, trail_id: int, status: str, detail: str, now: int) -> bool:
    """DONE (sold, or nothing held any more) or CANCELLED; False when it had ended already."""
    return bool(conn.execute(text("""UPDATE trailing_stops SET status = :s, detail = :d, ended_at = :now,
                                         updated_at = :now WHERE id = :id AND status IN ('ACTIVE', 'TRIGGERED')"""),
                             {"s": status, "d": detail, "now": now, "id": trail_id}).rowcount)


def trail_row(conn: Connection, trail_id: int) -> RowMapping | None:
    return conn.execute(text("SELECT * FROM trailing_stops WHERE id = :id"), {"id": trail_id}).mappings().first()


# -- icebergs --------------------------------------------------------------------------------------------


def active_icebergs(conn: Connection, venue: str, mode: str) -> list[RowMapping]:
    return list(conn.execute(text("""SELECT id, strategy, condition_id, token_id, outcome, side, price, total, slice,
                                            post_only FROM icebergs
                                     WHERE venue = :v AND mode = :m AND status = 'ACTIVE' ORDER BY id"""),
                             {"v": venue, "m": mode}).mappings())


def insert_iceberg(conn: Connection, *, venue: str, mode: str, strategy: str, condition_id: str, token_id: str,
                   outcome: str, side: str, price: int, total: int, slice_size: int, post_only: bool, now: int,
                   by: str) -> int:
    row = conn.execute(text("""INSERT INTO icebergs (venue, mode, strategy, condition_id, token_id, outcome, side,
                                   price, total, slice, post_only, status, created_at, created_by, updated_at)
                               VALUES (:v, :m, :s, :c, :t, :o, :side, :p, :total, :slice, :po, 'ACTIVE', :now, :by,
                                       :now) RETURNING id"""),
                       {"v": venue, "m": mode, "s": strategy, "c": condition_id, "t": token_id, "o": outcome,
                        "side": side, "p": price, "total": total, "slice": slice_size, "po": int(post_only), "now": now,
                        "by": by}).first()
    assert row is not None
    return int(row[0])


def end_iceberg(conn: Connection, iceberg_id: int, status: str, detail: str, now: int) -> bool:
    """DONE, CANCELLED or ENDED (a slice that ended unfilled, a refusal); False when it had ended already."""
    return bool(conn.execute(text("""UPDATE icebergs SET status = :s, detail = :d, ended_at = :now, updated_at = :now
                                     WHERE id = :id AND status = 'ACTIVE'"""),
                             {"s": status, "d": detail, "now": now, "id": iceberg_id}).rowcount)


def iceberg_row(conn: Connection, iceberg_id: int) -> RowMapping | None:
    return conn.execute(text("SELECT * FROM icebergs WHERE id = :id"), {"id": iceberg_id}).mappings().first()


@dataclass(frozen=True)
class Slice:
    order_id: int
    status: OrderStatus
    size: int
    filled: int

    @property
    def open(self) -> bool:
        return RANK[self.status] < TERMINAL_RANK


def iceberg_slices(conn: Connection, iceberg_id: int, venue: str, mode: str, book: str) -> list[Slice]:
    """Its slices in the order they were placed: the book's orders whose reason names it."""
    tag = iceberg_tag(iceberg_id)
    rows = conn.execute(text("""SELECT id, status, size, filled FROM orders
                                WHERE venue = :v AND mode = :m AND strategy = :s
                                  AND (reason = :tag OR reason LIKE :head)
                                ORDER BY id"""),
                        {"v": venue, "m": mode, "s": book, "tag": tag, "head": f"{tag}:%"})
    return [Slice(int(r[0]), OrderStatus(r[1]), int(r[2]), int(r[3])) for r in rows]
