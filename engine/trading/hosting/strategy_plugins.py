"""The engine's half of strategy plugins (contracts/strategy_plugins.py): each usable plugin
schema's class, from its folder's strategy.py, checked before use: exactly one StrategyBase
subclass, whose schema is the folder's SCHEMA, that implements `decide` and builds from the
schema's defaults. A plugin that fails any check is left out with its reason; the rest of the
desk runs on.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from contracts import strategy_plugins
from contracts.params import StrategyKind
from contracts.strategy_plugins import MODULE_PREFIX, failure, import_file
from engine.strategies.base import StrategyBase
from engine.strategies.registry import registry

Classes = dict[str, type[StrategyBase]]


def load_classes(schemas: dict[str, StrategyKind], folder: Path) -> tuple[Classes, dict[str, str]]:
    """(kind -> class, plugin -> why it is left out) for the plugin kinds whose schema is usable."""
    classes: Classes = {}
    problems: dict[str, str] = {}
    for kind, schema in schemas.items():
        found = _class_of(folder / kind / "strategy.py", kind, schema)
        if isinstance(found, str):
            problems[kind] = found
        else:
            classes[kind] = found
    return classes, problems


def _class_of(path: Path, kind: str, schema: StrategyKind) -> type[StrategyBase] | str:
    if not path.is_file():
        return "no strategy.py (it defines the kind's StrategyBase subclass)"
    name = f"{MODULE_PREFIX}.{kind}.strategy"
    try:
        module = import_file(path, name)
    except BaseException as exc:  # a plugin's own error, whatever it is, must not stop the desk
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"strategy.py does not import: {failure(exc)}"
    found = [c for c in vars(module).values()
             if inspect.isclass(c) and issubclass(c, StrategyBase) and c.__module__ == name]
    if len(found) != 1:
        return f"strategy.py defines {len(found)} StrategyBase subclasses: it must define exactly one"
    cls = found[0]
    if getattr(cls, "schema", None) is not schema:
        return "its class's `schema` is not the SCHEMA of its schema.py (import it from there)"
    if inspect.isabstract(cls):
        return "its class does not implement decide(snapshot, state, now_ms)"
    try:
        cls("plugin-check", {})
    except Exception as exc:
        return f"it cannot be built from its schema's defaults: {type(exc).__name__}: {exc}"
    return cls


_cache: tuple[tuple[tuple[str, str], ...], Classes, dict[str, str]] | None = None


def strategy_classes() -> Classes:
    """Every kind the engine can run: the built-in kinds, then the usable plugins'."""
    return {**registry(), **plugin_classes()[0]}


def plugin_problems() -> dict[str, str]:
    """Each plugin left out, and why."""
    return plugin_classes()[1]


def plugin_classes() -> tuple[Classes, dict[str, str]]:
    """The usable plugin classes and every plugin's problem (schema or class), read again when a
    plugin file changed (a reload picks up an edit)."""
    global _cache
    from contracts.strategy_kinds import plugins

    folder = strategy_plugins.plugins_dir()
    current = strategy_plugins.signature(folder)
    if _cache is None or _cache[0] != current:
        loaded = plugins()
        classes, problems = load_classes(loaded.schemas, folder)
        _cache = (current, classes, {**loaded.problems, **problems})
    return _cache[1], _cache[2]
