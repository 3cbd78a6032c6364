"""`python -m engine keystore seal`: the plain secrets of `.env` into the sealed secrets file.

Every sealable setting (contracts/sealed_secrets.py: the API credentials, the relayer key, the
notification URLs, the Telegram token) set in `.env` is encrypted into POLY_SECRETS_FILE (a new
file at --out the first time, mode 600; afterwards the existing one, whose values are kept and
replaced by newer plain ones), with the keystore's passphrase when there is a keystore, so one
passphrase (POLY_KEYSTORE_PASSWORD_FILE, or the terminal) opens both. The file is proved to open
to the same values before `.env` changes: then POLY_SECRETS_FILE is set and each sealed setting is
emptied there. Names are printed, never values.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dotenv import dotenv_values

from contracts.passwords import write_env_value
from contracts.sealed_secrets import SEALABLE, SealedError, read_document, seal, unseal
from contracts.settings import Settings
from engine.cli.errors import EXIT_OK
from engine.cli.keystore import (
    KeystoreError,
    _new_passphrase,
    _write_private,
    decrypt,
    passphrase_for,
    read_keystore,
)

DEFAULT_SECRETS = "var/secrets.sealed.json"


def cmd_seal(settings: Settings, args: argparse.Namespace) -> int:
    env_file = settings.env_file
    plain = _plain_secrets(env_file)
    outside = sorted(n for n in SEALABLE if os.environ.get(n))
    if outside:
        raise KeystoreError(f"{', '.join(outside)} come{'s' if len(outside) == 1 else ''} from the environment, not "
                            "from .env: seal cannot clear it there. Put it in .env instead; nothing changed")
    existing = settings.secrets_file is not None and settings.secrets_file.exists()
    if not plain:
        held = ", ".join(settings.sealed_names) or "nothing"
        raise KeystoreError(f"no plain secret in {env_file} to seal (sealed already: {held}); nothing changed")
    passphrase, values, target, shown = _open_target(settings, args, existing)
    values.update(plain)
    document = seal(values, passphrase)
    try:
        if unseal(json.loads(json.dumps(document)), passphrase, target) != values:
            raise SealedError("mismatch")
    except SealedError:
        raise KeystoreError("the sealed file did not open to the same values; nothing changed") from None
    _write_private(target, json.dumps(document).encode(), replace=existing)
    write_env_value(env_file, "POLY_SECRETS_FILE", shown)
    for name in plain:
        write_env_value(env_file, name, "")
    print(f"Sealed {', '.join(sorted(plain))} into {target} (scrypt and AES-256-GCM, mode 600); it holds "
          f"{', '.join(sorted(values))}. Set POLY_SECRETS_FILE={shown} and emptied them in {env_file}.\n"
          "The engine, the watchdog and the Telegram bot open it with the keystore's passphrase: under "
          "supervisord (make run) that is POLY_KEYSTORE_PASSWORD_FILE. Delete any old copy of .env that "
          "still holds them in plain text.")
    return EXIT_OK


def _plain_secrets(env_file: Path) -> dict[str, str]:
    found = dotenv_values(env_file, interpolate=False) if env_file.exists() else {}
    return {name: value.strip() for name in SEALABLE if (value := found.get(name)) and value.strip()}


def _open_target(settings: Settings, args: argparse.Namespace,
                 existing: bool) -> tuple[str, dict[str, str], Path, str]:
    """(passphrase, the values sealed so far, the file to write, as .env names it)."""
    if existing:
        assert settings.secrets_file is not None
        passphrase = passphrase_for(settings, sys.stdin)
        try:
            values = unseal(read_document(settings.secrets_file), passphrase, settings.secrets_file)
        except SealedError as exc:
            raise KeystoreError(f"{exc}; nothing changed") from None
        return passphrase, values, settings.secrets_file, str(settings.secrets_file)
    out = Path(args.out).expanduser()
    target = out if out.is_absolute() else settings.root / out
    if target.exists():
        raise KeystoreError(f"{target} already exists: choose another --out (a file is never overwritten unless "
                            "it is the POLY_SECRETS_FILE in use); nothing changed")
    if settings.keystore is not None:  # one passphrase for both: the keystore's, proved here
        passphrase = passphrase_for(settings, sys.stdin)
        decrypt(read_keystore(settings.keystore), passphrase, settings.keystore)
    else:
        passphrase = _new_passphrase(settings, sys.stdin)
    return passphrase, {}, target, str(out)


def register(actions: argparse._SubParsersAction) -> None:
    sealed = actions.add_parser("seal", help="encrypt the API credentials, relayer key, notification URLs and "
                                             "Telegram token of .env into POLY_SECRETS_FILE and clear them from .env")
    sealed.add_argument("--out", default=DEFAULT_SECRETS,
                        help=f"where to write a new sealed file (default {DEFAULT_SECRETS}; never overwritten)")
    sealed.set_defaults(func=cmd_seal)
