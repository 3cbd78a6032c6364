"""The engine's watch of its Kalshi key as Kalshi describes it (`GET /api_keys`, engine/venues/kalshi/
key_watch.py), against the simulator's Kalshi side: the account's location attestation read,
alerted when it expires within two weeks (a warning) or has lapsed (critical), told once when renewed,
and never alerted while it holds; a subaccount-restricted key read as the subaccount it trades."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import Secret
from contracts.venues.kalshi.keys import DAY_MS, KeyVerdict, judge
from contracts.venues.kalshi.settings import KalshiSettings
from engine.venues.kalshi.key_watch import KalshiKeyWatch
from engine.venues.kalshi.pairs import key_told
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.kalshi import admin, host, keypair


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=21, agents=False, prefill_books=False, kalshi_markets=1) as handle:
        yield handle


def test_the_attestation_is_alerted_before_it_lapses_and_when_renewed(sim: SimHandle, tmp_path: Path) -> None:
    private_pem, public_pem = keypair()
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem})
    assert status == 200
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    settings = KalshiSettings(host(sim), "simulator", body["api_key_id"], Secret(private_pem))
    told: list[bool] = []

    def changed(verdict: KeyVerdict) -> None:
        key_told(db, verdict, bool(told and told[-1]), now_ms())
        told.append(verdict.alert)

    watch = KalshiKeyWatch(settings, on_change=changed)

    def alerts() -> list[tuple[str, str]]:
        with db.read() as conn:
            return [(r[0], r[1]) for r in conn.exec_driver_sql("SELECT level, message FROM alerts ORDER BY id")]

    async def rounds() -> None:
        verdict = await watch.read_once()  # a new account: attested for months, nothing said
        assert verdict is not None and verdict.attestation == "ok" and verdict.trades and alerts() == []
        admin(sim, "/_sim/kalshi/attestation", {"account": body["account"], "expires_at_s": int(time.time()) + 86_400})
        assert (await watch.read_once()).attestation == "expiring"
        assert [level for level, _ in alerts()] == ["warning"] and "in 1.0 days" in alerts()[0][1]
        await watch.read_once()  # the same verdict: not said again
        admin(sim, "/_sim/kalshi/attestation", {"account": body["account"], "expires_at_s": int(time.time()) - 1})
        assert (await watch.read_once()).attestation == "lapsed" and alerts()[-1][0] == "warning"
        assert "refuses the key's orders in Sports, Elections, Entertainment markets" in alerts()[-1][1]
        admin(sim, "/_sim/kalshi/attestation", {"account": body["account"],
                                               "expires_at_s": int(time.time()) + 90 * 86_400})
        await watch.read_once()
        assert alerts()[-1][0] == "info" and "renewed" in alerts()[-1][1] and len(alerts()) == 3
        await watch.close()

    asyncio.run(rounds())
    db.dispose()


def test_a_verdict_reads_scopes_restriction_and_the_warning_window() -> None:
    now = 1_800_000_000_000
    keys = [("k1", ("read", "write::trade"), None), ("k2", ("read",), 4)]
    assert judge("k1", keys, now + 15 * DAY_MS, now).attestation == "ok"
    assert judge("k1", keys, now + 14 * DAY_MS, now).attestation == "expiring"
    assert judge("k1", keys, now, now).attestation == "lapsed"
    assert judge("k1", keys, None, now).attestation == "never"
    reader = judge("k2", keys, now + 30 * DAY_MS, now)
    assert (reader.trades, reader.subaccount, reader.listed) == (False, 4, True)
    assert not judge("k3", keys, None, now).listed
