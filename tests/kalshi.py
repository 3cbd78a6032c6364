"""What the Kalshi tests share: a fresh RSA key pair, as Kalshi's key page makes one, the simulator's
admin calls that stand in for Kalshi's website and for other traders, the binary markets it lists,
and the desk's client signed as a registered account."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from contracts.domain import MarketInfo
from engine.feeds.catalog import MarketCatalog
from engine.venues.kalshi.client import KalshiClient
from engine.venues.paper import PaperConfig, PaperVenue
from simulator.testing import SimHandle
from storage.sqlite.db import Database
from tests.execution.fakes import Clock, ScriptedBooks


def keypair() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh 2048-bit RSA key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode(),
            private.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode())


def admin(sim: SimHandle, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON answer) of one of the simulator's POST calls."""
    request = urllib.request.Request(f"{sim.clob_host}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def register(sim: SimHandle, public_pem: str) -> str:
    """A new funded account's key id for `public_pem`."""
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem})
    assert status == 200, body
    key_id: str = body["api_key_id"]
    return key_id


def host(sim: SimHandle) -> str:
    return f"{sim.clob_host}/trade-api/v2"


def account(sim: SimHandle) -> tuple[str, str, str]:
    """(key id, private PEM, account name) of a new funded account."""
    private, public = keypair()
    key_id = register(sim, public)
    return key_id, private, str(sim.call(lambda: sim.sim.kalshi.keys.keys[key_id].account))


def client(sim: SimHandle) -> tuple[KalshiClient, str]:
    """The desk's Kalshi client signed as a new funded account, and the account's name."""
    key_id, private, name = account(sim)
    return KalshiClient.at(host(sim), key_id, private), name


def binary_tickers(sim: SimHandle) -> list[str]:
    """The simulator's Kalshi markets that are not parlay legs, sorted."""
    return sorted(sim.call(lambda: [t for t, m in sim.sim.kalshi.exchange.markets.items()
                                    if m.mve_collection is None]))


def structure(sim: SimHandle, ticker: str) -> str:
    return str(sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].grid.structure))


def trade(sim: SimHandle, ticker: str, side: str, price: str, count: str) -> float:
    """Another trader takes up to `count` at `price` or better; returns what filled."""
    status, body = admin(sim, f"/_sim/kalshi/markets/{ticker}/trade", {"side": side, "price": price, "count": count})
    assert status == 200, body
    return float(body["filled"])


def lifecycle(sim: SimHandle, ticker: str, action: str, **body: Any) -> dict[str, Any]:
    status, answer = admin(sim, f"/_sim/kalshi/markets/{ticker}/{action}", body)
    assert status == 200, answer
    return answer


def promoted_on(db_path: Any, sim: SimHandle, ticker: str, params: dict[str, Any], name: str = "kx") -> None:
    """A desk's database with one of the simulator's Polymarket markets paired to Kalshi's `ticker` and
    a promoted market maker `name` (with `params`) trading that Kalshi market."""
    import sqlite3

    from contracts.venues.kalshi import ids as kalshi_ids
    from storage.desk.venue_pairs import add_pair
    from storage.sqlite.db import Database

    db = Database(db_path)
    add_pair(db, condition_id=sim.market(neg_risk=False)["condition_id"], kalshi_ticker=ticker, inverted=False,
             polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
    db.dispose()
    with sqlite3.connect(db_path) as conn:
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at,
                            updated_at, updated_by, status, live)
                        VALUES (?, 'market_making', ?, ?, 1, 1, 0, 0, 't', 'ok', 1)""",
                     (name, json.dumps(params), json.dumps([kalshi_ids.market_id(ticker)])))


def paper_kalshi(db_path: Path, market: MarketInfo) -> tuple[Database, Clock, ScriptedBooks, MarketCatalog, PaperVenue]:
    """A fresh desk database and the paper venue standing in for Kalshi on `market`: its YES book 0.40/0.45,
    100 contracts a side, and 1,000 contracts' worth of paper cash."""
    from contracts.venues import KALSHI
    from contracts.venues.kalshi.ids import CONTRACT
    from engine.execution.cash_book import paper_starting_cash
    from storage.sqlite.migrations import migrate

    migrate(db_path)
    db = Database(db_path)
    clock = Clock()
    books = ScriptedBooks(clock)
    books.set(market.yes_token, bids=[(0.40, 100)], asks=[(0.45, 100)])
    catalog = MarketCatalog([market])
    venue = PaperVenue(db, books, catalog, config=PaperConfig(starting_cash=1_000 * CONTRACT), clock=clock,
                       venue_name=KALSHI)
    with db.write() as conn:
        paper_starting_cash(conn, 1_000 * CONTRACT, clock(), venue=KALSHI)
    return db, clock, books, catalog, venue
