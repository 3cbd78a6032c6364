"""The metrics endpoint: `python -m engine metrics` serves the desk's state in Prometheus' text
format on 127.0.0.1 (`METRICS_PORT`, default 9464), for Prometheus to scrape and Grafana to draw
(docs/grafana-desk.json).

Every scrape reads the desk's database afresh, read-only, through the same report as `engine
status --json` (storage/desk/desk_status.py), so the two never disagree; it runs in its own
process, so a dead or frozen engine still shows (its heartbeat age grows, `desk_engine_up` is 0).
Order latency is the live placements' answer times the orders table records (the same round
trips the `measured` latency model draws from). Every ledger the report shows (the desk's own, the
paper ledger beside a live desk, each venue armed on its own) is served labelled by its venue and
mode (`desk_ledger_*`); the names each had before (`desk_<venue>_<mode>_*`, `desk_paper_ledger_*`,
`desk_paper_lane_*`) are served beside them for a release (docs/operating.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from contracts.settings import local_port
from contracts.venue_policies import venues_armed_alone
from contracts.venues import desk_venue
from storage.desk import desk_status
from storage.desk.desk_state import DESK_STATES
from storage.engine_stores.trading_reads import live_round_trips
from storage.sqlite.db import Database
from storage.sqlite.lite import read_connection

log = logging.getLogger("engine.metrics")

PORT_ENV, DEFAULT_PORT = "METRICS_PORT", 9464
QUANTILES = (0.5, 0.9, 0.99)
TRADING_STATES = ("ACTIVE", "REDUCING", "HALTED")
OLD_PAPER_LEDGER = "desk_paper_lane"  # the paper ledger's metrics' prefix before it was named so (still served)


def port_from(raw: str | None) -> int:
    """The port setting as a port number (1-65535), or ValueError saying what is wrong."""
    return local_port(raw, PORT_ENV, DEFAULT_PORT)


class DeskCollector(Collector):
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def collect(self) -> Iterator[Metric]:
        if not self.db_path.exists():
            yield _gauge("desk_database_present", "Whether the desk's database exists yet", 0)
            return
        conn = read_connection(self.db_path)
        try:
            report = desk_status.status_report(conn, self.db_path, alerts_shown=0)
        finally:
            conn.close()
        yield from _engine(report)
        yield from _money(report)
        yield from _ledgers(report)
        yield from _venue(report["venue"])
        yield from _latency(self.db_path)

    def describe(self) -> Iterator[Metric]:
        return iter(())  # collected afresh on every scrape: nothing to describe ahead


def _gauge(name: str, doc: str, value: float, unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value, unit=unit)


def _engine(report: dict[str, Any]) -> Iterator[Metric]:
    yield _gauge("desk_engine_up", "1 while the engine runs and heartbeats", int(bool(report["engine_up"])))
    if report["heartbeat_age_s"] is not None:
        yield _gauge("desk_heartbeat_age_seconds", "Time since the engine's last heartbeat",
                     report["heartbeat_age_s"])
    if report["data_age_s"] is not None:
        yield _gauge("desk_data_age_seconds", "Age of the oldest book the engine follows, at its last heartbeat",
                     report["data_age_s"])
    if report.get("pass_age_s") is not None:
        yield _gauge("desk_last_pass_age_seconds", "Time since the engine's last completed trading pass, at its "
                     "last heartbeat", report["pass_age_s"])
    yield _gauge("desk_deciding", "0 while the engine runs but cannot decide (its passes fail or stall)",
                 int(not report.get("cannot_decide")))
    yield _gauge("desk_kill_latched", "1 while the kill latch is set", int(bool(report["kill_latched"])))
    code = report["desk"]["code"]  # the desk's one state, as the header and `engine status` say it
    desk = GaugeMetricFamily("desk_state", "The desk's state as every surface says it: "
                             f"{', '.join(DESK_STATES)} (1 for the current one)", labels=["state"])
    for state in DESK_STATES:
        desk.add_metric([state], int(code == state))
    yield desk
    states = GaugeMetricFamily("desk_trading_state", "The breakers' state while the desk trades (1 for the current "
                               "one; all 0 while it does not: killed, stopped, paused, down)", labels=["state"])
    trading = {"TRADING": "ACTIVE", "REDUCING": "REDUCING", "HALTED": "HALTED"}.get(code)
    for state in TRADING_STATES:
        states.add_metric([state], int(trading == state))
    yield states
    mode = GaugeMetricFamily("desk_mode", "Whether the desk trades paper or live (1 for the current one)",
                             labels=["mode"])
    for name in ("paper", "live"):
        mode.add_metric([name], int(report["mode"] == name))
    yield mode
    yield _gauge("desk_crashes", "Engine crashes counted in the recent window", report["crash_count"])
    yield _gauge("desk_unacked_alerts", "Alerts nobody has acknowledged", report["unacked_alerts"])


def _money(report: dict[str, Any]) -> Iterator[Metric]:
    if report["equity_usdc"] is not None:
        yield _gauge("desk_equity_pusd", "Equity (cash plus positions at their marks), pUSD", report["equity_usdc"])
    if report["pnl_today_usdc"] is not None:
        yield _gauge("desk_pnl_today_pusd", "Profit since 00:00 UTC, pUSD", report["pnl_today_usdc"])
    yield _gauge("desk_open_orders", "Orders working at the venue", report["open_orders"])
    yield _gauge("desk_positions", "Positions held", report["positions"])
    realized = GaugeMetricFamily("desk_strategy_realized_pusd", "Each strategy's realized profit after fees, pUSD",
                                 labels=["strategy"])
    for strategy in report["strategies"]:  # after fees, as every surface shows a strategy's PnL
        realized.add_metric([str(strategy["strategy"])], float(strategy.get("pnl_usdc") or 0.0))
    yield realized
    if (ledger := report.get("paper_ledger")) is not None:  # paper-only strategies beside a live desk
        # Also under the names they had before the paper ledger was called so, which alert rules may name.
        for name in ("desk_paper_ledger", OLD_PAPER_LEDGER):
            if ledger["equity_usdc"] is not None:
                yield _gauge(f"{name}_equity_pusd", "The paper ledger's equity (paper-only strategies on a live "
                             "desk), pUSD on paper", ledger["equity_usdc"])
            yield _gauge(f"{name}_halted", "1 while the paper ledger's own breakers halt it",
                         int(ledger["trading_state"] == "HALTED"))
    for policy in venues_armed_alone():  # each venue armed on its own, under the names it had before the labels
        label, unit = policy.label, policy.cash_unit
        for mode, words in (("paper", f"{unit} on paper"), ("live", unit)):
            if (ledger := report.get(f"{policy.venue}_{mode}")) is None:
                continue
            if ledger["equity_usdc"] is not None:
                yield _gauge(f"desk_{policy.venue}_{mode}_equity_{unit.lower()}",
                             f"{label}'s {mode} ledger's equity, {words}", ledger["equity_usdc"])
            yield _gauge(f"desk_{policy.venue}_{mode}_halted", f"1 while the {label} {mode} ledger's own breakers "
                         "halt it", int(ledger["trading_state"] == "HALTED"))


def _each_ledger(report: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(venue, mode, its figures) of every ledger the report shows: the desk's own, the paper ledger beside a
    live desk, each venue armed on its own in its armed mode."""
    desk = desk_venue()
    yield desk, str(report["mode"]), report
    if (paper := report.get("paper_ledger")) is not None:
        yield desk, "paper", paper
    for policy in venues_armed_alone():
        for mode in ("paper", "live"):
            if (ledger := report.get(f"{policy.venue}_{mode}")) is not None:
                yield policy.venue, mode, ledger


def _ledgers(report: dict[str, Any]) -> Iterator[Metric]:
    """Each ledger's figures labelled by its venue and mode (money in its venue's cash: pUSD on Polymarket, USD on
    Kalshi; `VenuePolicy.cash_unit`)."""
    equity = GaugeMetricFamily("desk_ledger_equity", "Each ledger's equity (cash plus positions at their marks), "
                               "in its venue's cash", labels=["venue", "mode"])
    pnl = GaugeMetricFamily("desk_ledger_pnl_today", "Each ledger's profit since 00:00 UTC, in its venue's cash",
                            labels=["venue", "mode"])
    halted = GaugeMetricFamily("desk_ledger_halted", "1 while a ledger's breakers halt it", labels=["venue", "mode"])
    for venue, mode, ledger in _each_ledger(report):
        if ledger["equity_usdc"] is not None:
            equity.add_metric([venue, mode], ledger["equity_usdc"])
        if ledger["pnl_today_usdc"] is not None:
            pnl.add_metric([venue, mode], ledger["pnl_today_usdc"])
        halted.add_metric([venue, mode], int(ledger["trading_state"] == "HALTED"))
    yield from (equity, pnl, halted)


def _venue(venue: dict[str, Any]) -> Iterator[Metric]:
    yield _gauge("desk_venue_ok", "1 when the venue takes every order and no condition holds", int(bool(venue["ok"])))
    conditions = GaugeMetricFamily("desk_venue_condition", "Venue conditions holding now (the phase, unreachable, "
                                   "heartbeats failing, fills dark, balance drift, ...)", labels=["condition"])
    if venue["status"] != "ok":
        conditions.add_metric([str(venue["status"])], 1)
    for condition in venue["conditions"]:
        conditions.add_metric([str(condition["code"])], 1)
    yield conditions


def _latency(db_path: Path) -> Iterator[Metric]:
    db = Database(db_path)
    try:
        with db.read() as conn:
            trips = sorted(live_round_trips(conn))
    finally:
        db.dispose()
    yield _gauge("desk_order_round_trips", "Live placements the latency figures are taken from (the newest 1,000)",
                 len(trips))
    if not trips:
        return
    latency = GaugeMetricFamily("desk_order_latency_seconds", "Live placements' answer times (sent to answered)",
                                labels=["quantile"])
    for q in QUANTILES:
        latency.add_metric([str(q)], trips[min(len(trips) - 1, int(q * len(trips)))] / 1000)
    yield latency


def serve(db_path: Path, port: int) -> WSGIServer:
    """Start serving /metrics on 127.0.0.1:`port` in a background thread; returns the server."""
    from prometheus_client import start_http_server

    collector = DeskCollector(db_path)
    REGISTRY.register(collector)
    server, _thread = start_http_server(port, addr="127.0.0.1")
    return server


def run(db_path: Path, port: int) -> int:
    server = serve(db_path, port)
    log.info("metrics served", extra={"url": f"http://127.0.0.1:{server.server_port}/metrics"})
    print(f"metrics on http://127.0.0.1:{server.server_port}/metrics", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
