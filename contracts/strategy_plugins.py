"""Strategy plugins: kinds of your own, without a change to the desk's code.

A plugin is a folder under `plugins/strategies/` (or `STRATEGY_PLUGINS_DIR`), named as its kind:

    plugins/strategies/my_kind/schema.py     SCHEMA = StrategyKind("my_kind", title, description, params, check)
    plugins/strategies/my_kind/strategy.py   a StrategyBase subclass with `schema = SCHEMA`

The schema is a pure value, as the built-in kinds' are (contracts/strategy_schemas/): the
dashboard, the CLI and sweeps read it to draw and check the params form, and never import the
strategy's decision code; the engine loads the class (engine/strategies/plugins.py). Both are
read at start and on every configuration reload. A plugin that cannot be used (it does not
import, names another kind, clashes with a built-in, its schema's defaults do not validate) is
left out with a clear reason, which the engine alerts and the Strategies page shows; the desk
keeps running, and a strategy of that kind is disabled with the reason until it is fixed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from contracts.params import StrategyKind

ENV = "STRATEGY_PLUGINS_DIR"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "plugins" / "strategies"
KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MODULE_PREFIX = "desk_strategy_plugins"


def plugins_dir() -> Path:
    raw = os.environ.get(ENV, "").strip()
    return Path(raw).expanduser() if raw else DEFAULT_DIR


@dataclass(frozen=True)
class Loaded:
    """What a plugins folder offers: usable schemas by kind, and each unusable plugin's reason."""

    schemas: dict[str, StrategyKind] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # plugin folder -> why it is left out


def plugin_folders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import one plugin file afresh (a reload reads the edited file); raises what it raised."""
    _packages(module_name, path.parent)  # so that strategy.py can import its schema as `.schema`
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _packages(module_name: str, folder: Path) -> None:
    """The plugin's packages (`desk_strategy_plugins` and `desk_strategy_plugins.<kind>`, its folder)."""
    root, kind = module_name.split(".")[:2]
    if root not in sys.modules:
        package = ModuleType(root)
        package.__path__ = []
        sys.modules[root] = package
    name = f"{root}.{kind}"
    package = sys.modules.get(name) or ModuleType(name)
    package.__path__ = [str(folder)]
    sys.modules[name] = package


def failure(exc: BaseException) -> str:
    """An import's failure in one line: the exception and where in the plugin it happened."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(("schema.py", "strategy.py"))]
    where = f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def signature(folder: Path) -> tuple[tuple[str, str], ...]:
    """What the folder's plugins are now (each file and a digest of it; a file's time can stay the
    same across a quick edit): a cache is good while equal."""
    return tuple((str(p), hashlib.sha256(p.read_bytes()).hexdigest()) for plugin in plugin_folders(folder)
                 for p in (plugin / "schema.py", plugin / "strategy.py") if p.is_file())


def load_schemas(builtin: set[str], folder: Path | None = None) -> Loaded:
    """Every plugin schema in `folder` (default: plugins_dir()) that can be used beside `builtin`."""
    loaded = Loaded()
    for plugin in plugin_folders(folder or plugins_dir()):
        problem = _schema_problem(plugin, builtin, loaded)
        if problem is not None:
            loaded.problems[plugin.name] = problem
    return loaded


def _schema_problem(plugin: Path, builtin: set[str], loaded: Loaded) -> str | None:
    name = plugin.name
    if not KIND.match(name):
        return "a plugin folder is named as its kind: lower-case letters, digits and _, starting with a letter"
    if name in builtin:
        return f"'{name}' is a built-in kind: name the plugin otherwise"
    path = plugin / "schema.py"
    if not path.is_file():
        return "no schema.py (it defines SCHEMA, the kind's StrategyKind)"
    try:
        module = import_file(path, f"{MODULE_PREFIX}.{name}.schema")
    except BaseException as exc:  # a plugin's own error, whatever it is, must not stop the desk
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"schema.py does not import: {failure(exc)}"
    schema = getattr(module, "SCHEMA", None)
    if not isinstance(schema, StrategyKind):
        return "schema.py defines no SCHEMA of type contracts.params.StrategyKind"
    if schema.kind != name:
        return f"its SCHEMA is kind '{schema.kind}', not '{name}' (the folder's name)"
    try:
        _, errors = schema.validate({})
    except Exception as exc:
        return f"its schema's checks raise on the defaults: {type(exc).__name__}: {exc}"
    if errors:
        return f"its defaults do not validate: {'; '.join(f'{k}: {v}' for k, v in errors.items())}"
    loaded.schemas[name] = schema
    return None
