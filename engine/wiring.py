"""Composition root: builds the trading core the engine process runs."""

from __future__ import annotations

from engine.trading import IdleTrading, Trading
from storage.db import Database
from storage.settings import Settings


def build_trading(settings: Settings, db: Database) -> Trading:
    return IdleTrading()
