"""The environment of a process the dashboard starts that needs no secret: a backtest, a sweep, a
PMXT import. It is the dashboard's own less every secret the operator may have exported into the
environment supervisord was started with (secrets never reach a child's environment: such a child
reads the settings it needs from `.env` itself, and a secret it does not need is one it cannot leak
through a crash report or a process listing)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from contracts.sealed_secrets import SEALABLE

SECRETS = frozenset({*SEALABLE, "POLY_PRIVATE_KEY", "DASHBOARD_PASSWORD_HASH", "DASHBOARD_VIEWER_PASSWORD_HASH"})


def without_secrets(extra: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`environ` (the process's own by default) less every secret, plus `extra`."""
    source = os.environ if environ is None else environ
    return {**{name: value for name, value in source.items() if name not in SECRETS}, **extra}
