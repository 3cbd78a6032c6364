"""Which of the desk's optional programs supervisord runs, from the settings: `make run` writes
their sections (from supervisord.optional.conf) into var/run/optional-programs.conf, which
supervisord.conf includes.

supervisorctl's `status` exits 3 whenever a program it knows is not running (supervisor 4.3: any
process STOPPED, EXITED, FATAL or UNKNOWN), even one that exited 0 because it was not configured.
A program that is off is therefore left out of supervisord altogether, so `status` lists what
should run and exits 0 when all of it runs.
"""

from __future__ import annotations

import configparser
import io
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contracts.settings import ROOT, Settings, SettingsError, load_settings, read_env

TEMPLATE = ROOT / "supervisord.optional.conf"
INCLUDED = ROOT / "var" / "run" / "optional-programs.conf"
HEADER = ("; Written by `python -m tools.optional_programs` (make run) from supervisord.optional.conf, for\n"
          "; the settings in force then: edit that file, not this one.\n")


@dataclass(frozen=True)
class Choice:
    """One optional program: whether it runs, and the setting that says so."""

    name: str
    on: bool
    why: str


def switch(raw: str | None, name: str) -> bool:
    """An on/off setting: 1, true, yes or on; 0, false, no, off or empty. Anything else is refused."""
    value = (raw or "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 (on) or 0 (off), not {raw!r}. Fix it in .env.")


def choices(settings: Settings, env: Mapping[str, str]) -> list[Choice]:
    """Each optional program, on or off by `settings` (and METRICS_ENABLED in the merged `env`)."""
    sealed = set(settings.sealed_names)
    telegram = settings.telegram is not None or "TELEGRAM_BOT_TOKEN" in sealed
    signals = settings.signals_api_token is not None or "SIGNALS_API_TOKEN" in sealed
    metrics = switch(env.get("METRICS_ENABLED"), "METRICS_ENABLED")
    return [
        Choice("simulator", settings.data_source == "simulator", f"DATA_SOURCE={settings.data_source}"),
        Choice("telegram", telegram, f"TELEGRAM_BOT_TOKEN {'set' if telegram else 'not set'}"),
        Choice("signals", signals, f"SIGNALS_API_TOKEN {'set' if signals else 'not set'}"),
        Choice("metrics", metrics, f"METRICS_ENABLED={1 if metrics else 0}"),
    ]


def sections(template: str, names: set[str]) -> str:
    """The [program:NAME] sections of `template` for `names`, as supervisord reads them."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    parser.read_string(template)
    unknown = names - {s.split(":", 1)[1] for s in parser.sections()}
    assert not unknown, f"no such optional program: {sorted(unknown)}"
    for section in parser.sections():
        if section.split(":", 1)[1] not in names:
            parser.remove_section(section)
    out = io.StringIO()
    parser.write(out)
    return HEADER + out.getvalue()


def write(path: Path, template: str, names: set[str]) -> None:
    """The included file, replaced whole (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(sections(template, names))
    partial.replace(path)


def main() -> int:
    try:
        found = choices(load_settings(), read_env())
    except SettingsError as exc:
        print(f"Cannot tell which optional programs to run: {exc}", file=sys.stderr)
        return 2
    # %(here)s in an included file would be that file's folder: the project folder is written in.
    write(INCLUDED, TEMPLATE.read_text().replace("%(here)s", str(ROOT)), {c.name for c in found if c.on})
    on = ", ".join(f"{c.name} ({c.why})" for c in found if c.on) or "none"
    off = ", ".join(f"{c.name} ({c.why})" for c in found if not c.on) or "none"
    print(f"Optional programs under supervisord: {on}; off: {off}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
