"""Will the service find the keystore's passphrase after a reboot? `make service` asks before it
installs the desk to start at boot (tools/service.py prints what this finds).

A service has no terminal: an engine holding a keystore (or sealed secrets) reads the passphrase
from POLY_KEYSTORE_PASSWORD_FILE. A file on a tmpfs (`/run/user/$UID/`, `/dev/shm`, often `/tmp`)
is gone after every reboot, so a desk meant to start at boot would start without its key (its
engine stopping at once, supervisord giving up on it). What survives a reboot and stays yours: a
file of mode 600 in a folder of mode 700 under your config folder (see PASSPHRASE_HOME). Debian
12's systemd (252) cannot encrypt a credential for a user's own service: `systemd-creds --user`
came with systemd 256, and the host key an older one encrypts with is readable by root alone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from contracts.settings import ROOT, read_env

MOUNTS = Path("/proc/self/mounts")
EMPTIED_AT_BOOT = frozenset({"tmpfs", "ramfs"})
PASSPHRASE_HOME = "~/.config/polymarket-desk/passphrase"
HOW = (f"keep it in {PASSPHRASE_HOME} instead (a folder of mode 700 under your config folder, the file of mode "
       "600), set POLY_KEYSTORE_PASSWORD_FILE to it in .env, and run make service again "
       "(docs/operating.md, \"A passphrase that survives a reboot\")")


def passphrase_problems(env: Mapping[str, str] | None = None, root: Path = ROOT,
                        mounts: Path = MOUNTS) -> list[str]:
    """Why the service would start at boot without the keystore's passphrase (empty: it would not)."""
    settings = read_env(root, env)
    needs = [name for name in ("POLY_KEYSTORE", "POLY_SECRETS_FILE") if settings.get(name)]
    if not needs:
        return []  # nothing to unlock: a paper desk, or a plain key in .env
    raw = settings.get("POLY_KEYSTORE_PASSWORD_FILE", "")
    what = " and ".join(needs)
    if not raw:
        return [f"{what} {'is' if len(needs) == 1 else 'are'} set but POLY_KEYSTORE_PASSWORD_FILE is not: the service "
                f"has no terminal to ask the passphrase on, so its engine would not start; {HOW}"]
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else root / path
    found = []
    kind = filesystem_of(path, mounts)
    if kind in EMPTIED_AT_BOOT:
        found.append(f"POLY_KEYSTORE_PASSWORD_FILE ({path}) is on a {kind}, emptied at every reboot: the service "
                     f"would start at boot without its key; {HOW}")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return [*found, f"POLY_KEYSTORE_PASSWORD_FILE ({path}) does not exist: the engine would not start; {HOW}"]
    except OSError as exc:
        return [*found, f"POLY_KEYSTORE_PASSWORD_FILE ({path}) cannot be read ({exc.strerror}): the engine would "
                        "not start"]
    if mode & 0o077:
        found.append(f"POLY_KEYSTORE_PASSWORD_FILE ({path}) can be read by others (mode {mode:o}): the engine refuses "
                     f"it; chmod 600 {path}")
    return found


def filesystem_of(path: Path, mounts: Path = MOUNTS) -> str | None:
    """The type of the filesystem `path` lies on (the deepest mount point above it), or None when the
    mount table cannot be read."""
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return None
    resolved = Path(os.path.realpath(path))
    best, kind = -1, None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(fields[1].replace("\\040", " "))
        if (resolved == point or point in resolved.parents) and len(point.parts) > best:
            best, kind = len(point.parts), fields[2]
    return kind
