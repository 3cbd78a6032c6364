"""Property tests over hostile input, through the real storage and engine code.

- Random command rows, written straight into the queue (as a buggy client could), against a
  real engine process: each is refused with a readable reason recorded, the engine's state is
  exactly as before, and it keeps heartbeating.
- Random configuration values and strategy params through the one writer: either refused with
  the field named and nothing written, or stored in a form the engine loads without a problem.
- Random intents and limits through the risk gate and the executor: no order is ever placed
  that the open-order or exposure limits forbid, within one tick.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from contracts.domain import Intent, MarketInfo, MarketView, Quote, Side, Tif
from contracts.limits import LIMITS, Limits, defaults
from contracts.runtime_settings import SETTINGS
from engine.execution.portfolio import exposure
from engine.risk import breakers
from engine.risk import context as risk_context
from engine.risk.gate import Budget, RiskGate, TradingState
from engine.strategies.registry import registry
from engine.trading.passes import core_state
from storage.command_queue.command_payloads import SCHEMAS
from storage.desk import config
from storage.desk.config import Change, ConfigError
from storage.engine_stores.config_reads import ensure_limit_defaults, ensure_setting_defaults
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, market
from tests.helpers import EngineProcess, isolated_env, post_raw

SOME = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
MANY = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4)), max_leaves=12)


def _invalid_payload(kind: str) -> st.SearchStrategy[str]:
    """Payloads `kind` must refuse: malformed JSON, not an object, unknown keys, wrong types."""
    schema = SCHEMAS.get(kind, {})
    wrong_type = st.builds(lambda name, v: json.dumps({name: v}), st.sampled_from(sorted(schema) or ["x"]),
                           st.one_of(st.lists(st.integers(), min_size=1, max_size=3),
                                     st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2)))
    return st.one_of(
        st.text(max_size=40).filter(lambda t: t != "" and not _is_json_object(t)),  # "" means {}
        st.builds(json.dumps, st.lists(json_scalars, max_size=3)),
        st.builds(lambda k, v: json.dumps({k: v}), st.text(min_size=1, max_size=10).filter(lambda k: k not in schema),
                  json_scalars),
        wrong_type,
        st.integers(40, 3_000).map(lambda n: "[" * n + "]" * n),
    )


def _is_json_object(raw: str) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


FIELDS = ("state", "desired_state", "mode", "kill_latched", "trading_state", "peak_equity")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    tmp = tmp_path_factory.mktemp("prop")
    proc = EngineProcess(tmp, isolated_env(tmp))
    try:
        proc.start()
        yield proc
    finally:
        proc.cleanup()


def _snapshot(engine: EngineProcess) -> tuple[Any, ...]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(f"SELECT {', '.join(FIELDS)} FROM engine_state").fetchone()


@pytest.mark.slow
@SOME
@given(data=st.data())
def test_random_command_rows_are_refused_and_change_nothing(engine: EngineProcess, data: st.DataObject) -> None:
    kind = data.draw(st.one_of(st.sampled_from(sorted(set(SCHEMAS) - {"kill"})),
                               st.text(min_size=1, max_size=12).filter(lambda k: k not in SCHEMAS)))
    payload = data.draw(_invalid_payload(kind))
    before = _snapshot(engine)
    row = engine.wait_command(post_raw(engine.db_path, kind, payload), timeout=20)
    assert row.status == "failed" and row.error and "Traceback" not in row.error, row
    assert _snapshot(engine) == before
    assert engine.proc is not None and engine.proc.poll() is None
    assert not engine.status().heartbeat_stale


@pytest.fixture(scope="module")
def cfg_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    tmp = tmp_path_factory.mktemp("cfg")
    migrate(tmp / "c.db")
    db = Database(tmp / "c.db")
    with db.write() as conn:
        ensure_limit_defaults(conn)
        ensure_setting_defaults(conn)
    yield db
    db.dispose()


def _table(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@MANY
@given(name=st.one_of(st.sampled_from([s.name for s in LIMITS]), st.text(max_size=12)),
       raw=st.one_of(st.text(max_size=20), st.floats().map(str), st.integers().map(str),
                     st.decimals(allow_nan=True).map(str)))
def test_random_limit_values_are_stored_only_when_the_engine_can_load_them(
        cfg_db: Database, monkeypatch_env: None, name: str, raw: str) -> None:
    with cfg_db.read() as conn:
        version = conn.execute(text("SELECT version FROM risk_limits WHERE name = :n"), {"n": name}).scalar()
    before = _table(cfg_db, "SELECT name, value, version FROM risk_limits ORDER BY name")
    try:
        config.save_risk_limits(cfg_db, {name: Change(raw, version)}, actor="prop")
    except ConfigError as exc:
        assert name in exc.fields and exc.fields[name]
        assert _table(cfg_db, "SELECT name, value, version FROM risk_limits ORDER BY name") == before
        return
    assert core_state.load_all(cfg_db).problems == ()


@MANY
@given(key=st.one_of(st.sampled_from([s.key for s in SETTINGS]), st.text(max_size=12)), value=json_values)
def test_random_setting_values_are_stored_only_when_the_engine_can_load_them(
        cfg_db: Database, monkeypatch_env: None, key: str, value: Any) -> None:
    with cfg_db.read() as conn:
        version = conn.execute(text("SELECT version FROM settings WHERE key = :k"), {"k": key}).scalar()
    before = _table(cfg_db, "SELECT key, value, version FROM settings ORDER BY key")
    try:
        config.save_settings(cfg_db, {key: (value, version)}, actor="prop")
    except ConfigError as exc:
        assert key in exc.fields and exc.fields[key]
        assert _table(cfg_db, "SELECT key, value, version FROM settings ORDER BY key") == before
        return
    assert core_state.load_all(cfg_db).problems == ()


@MANY
@given(kind=st.one_of(st.sampled_from(sorted(registry())), st.text(max_size=8)),
       params=st.dictionaries(st.text(max_size=14), json_values, max_size=5), markets=json_values,
       name=st.text(min_size=1, max_size=20))
def test_random_strategy_configs_are_stored_only_when_the_engine_can_build_them(
        cfg_db: Database, monkeypatch_env: None, kind: str, params: dict[str, Any], markets: Any, name: str) -> None:
    from contracts.market_filter import validate_market_spec
    from engine.strategies.registry import build_strategy

    before = _table(cfg_db, "SELECT COUNT(*) FROM strategies")
    try:
        config.create_strategy(cfg_db, name=name, kind=kind, params=params, markets=markets, enabled=False,
                               actor="prop")
    except ConfigError as exc:
        assert exc.fields, exc
        assert _table(cfg_db, "SELECT COUNT(*) FROM strategies") == before
        return
    build_strategy(name, kind, params)  # the engine builds it without ParamsError
    assert validate_market_spec(markets) == {}
    with cfg_db.write() as conn:
        conn.execute(text("DELETE FROM strategies"))


@pytest.fixture
def monkeypatch_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path_factory.getbasetemp() / "none.env"))


quotes = st.lists(st.builds(lambda side, cents, shares, post: Quote(side, cents * 10_000, shares * SH, Tif.GTC, post),
                            st.sampled_from(list(Side)), st.integers(2, 98), st.integers(5, 300), st.booleans()),
                  max_size=4)


@MANY
@given(markets=st.integers(1, 12), per_market=st.lists(quotes, min_size=12, max_size=12),
       max_open=st.integers(0, 15), max_total=st.integers(0, 400), max_market=st.integers(0, 200))
def test_no_tick_places_what_the_limits_forbid(tmp_path_factory: pytest.TempPathFactory, markets: int,
                                               per_market: list[list[Quote]], max_open: int, max_total: int,
                                               max_market: int) -> None:
    desk = make_desk(tmp_path_factory.mktemp("lim") / "d.db")
    try:
        infos = [market(f"c{i}", f"Y{i}", f"N{i}") for i in range(markets)]
        for info in infos:
            desk.catalog.add(info)
            desk.books.set(info.yes_token, bids=[(0.01, 1000)], asks=[(0.99, 1000)])
            desk.books.set(info.no_token, bids=[(0.01, 1000)], asks=[(0.99, 1000)])
        limits = Limits({**defaults().values, "max_open_orders": Decimal(max_open),
                         "max_total_exposure": Decimal(max_total), "max_market_exposure": Decimal(max_market)})
        memory = breakers.RiskMemory(TradingState.ACTIVE, None, None, None, None)
        views = {i.condition_id: _view(desk, i) for i in infos}
        ctx = risk_context.build(desk.clock(), desk.executor.state, desk.catalog, views, limits, memory)
        gate, budget = RiskGate(), Budget.of(ctx.exposure, ctx.open_orders, ctx.own_open_orders)
        approved = [gate.check_intent(Intent("s", i.condition_id, tuple(q)), ctx, budget)[0]
                    for i, q in zip(infos, per_market, strict=False)]
        desk.executor.placement_check = lambda s, m, spec, n: gate.check_placement(ctx, s, m, spec, n)
        desk.executor.set_intents(approved)
        desk.run(desk.executor.reconcile())
        desk.settle()
        assert len(desk.executor.state.orders) <= max_open
        used = exposure(desk.executor.state, desk.catalog)
        assert used.total <= max_total * SH
        assert all(v <= max_market * SH for v in used.by_market.values())
    finally:
        desk.loop.close()
        desk.db.dispose()


def _view(desk: Desk, info: MarketInfo) -> MarketView:
    return MarketView(info, desk.books.book(info.yes_token), desk.books.book(info.no_token))
