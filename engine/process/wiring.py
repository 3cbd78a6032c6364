"""Composition root: builds the trading core the engine process runs."""

from __future__ import annotations

from contracts.settings import Settings
from engine.execution.placement import OrderGate
from engine.process.trading_seam import Trading
from engine.trading.core import TradingCore
from storage.sqlite.db import Database


def build_trading(settings: Settings, db: Database, gate: OrderGate) -> Trading:
    return TradingCore(settings, db, gate=gate)
