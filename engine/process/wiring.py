"""Composition root: builds the trading core the engine process runs."""

from __future__ import annotations

from engine.execution.placement import OrderGate
from engine.trading.core import TradingCore
from engine.process.trading_seam import Trading
from storage.sqlite.db import Database
from contracts.settings import Settings


def build_trading(settings: Settings, db: Database, gate: OrderGate) -> Trading:
    return TradingCore(settings, db, gate=gate)
