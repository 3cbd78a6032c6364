"""Composition root: builds the trading core the engine process runs."""

from __future__ import annotations

from engine.core import TradingCore
from engine.trading import Trading
from storage.db import Database
from storage.settings import Settings


def build_trading(settings: Settings, db: Database) -> Trading:
    return TradingCore(settings, db)
