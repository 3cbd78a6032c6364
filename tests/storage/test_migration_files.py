"""One module per migration (storage/sqlite/migrations/): every module is in the ordered list once,
every name in it has its module with its `up`, so a file left out of the list never silently fails
to run, and a name in it never points at nothing."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

from storage.sqlite import migrations

MODULE = re.compile(r"^m(\d{4}_[a-z0-9_]+)\.py$")


def test_every_migration_module_is_in_the_order_once_and_every_name_has_its_module() -> None:
    folder = Path(migrations.__file__).parent
    files = sorted(MODULE.fullmatch(p.name).group(1) for p in folder.glob("m*.py") if MODULE.fullmatch(p.name))
    assert len(set(migrations.ORDER)) == len(migrations.ORDER)
    assert sorted(migrations.ORDER) == files
    assert migrations.known_names() == list(migrations.ORDER)
    assert all(callable(import_module(f"{migrations.__name__}.m{name}").up) for name in migrations.ORDER)
    # Nothing else lives beside them but what they share.
    assert sorted(p.name for p in folder.glob("*.py") if not MODULE.fullmatch(p.name)) == ["__init__.py", "common.py"]
