"""The strategy kinds the desk offers, as the dashboard may use them: each kind's title,
description and parameter schema (`registry()`), and `validate_params`, the same check the
engine runs before it builds a strategy. Strategies are pure decision code (no I/O), so
offering them here pulls nothing of the trading machinery into the dashboard."""

from __future__ import annotations

from engine.strategies.registry import registry, validate_params

__all__ = ["registry", "validate_params"]
