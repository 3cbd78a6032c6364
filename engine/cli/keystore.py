"""The wallet key encrypted at rest: a standard Ethereum keystore (scrypt), unlocked once at start.

`POLY_KEYSTORE=path` names the keystore file (the JSON format eth-account and every Ethereum
wallet read and write). Its passphrase never sits in `.env` or the database: the process that
needs the key (the engine, `cancel-all`, `preflight`) reads it from `POLY_KEYSTORE_PASSWORD_FILE`
(a separate file, readable by its owner only: mode 600, e.g. on a tmpfs or written by a secrets
manager) or, with no such file, asks for it once on the terminal. With neither (supervisord has
no terminal) it stops with an error that says so. The decrypted key lives only in that process's
memory, as a `Secret` registered with the log redaction; it is never written anywhere, put on a
command line or into the environment children inherit.

`python -m engine keystore import` encrypts the plain `POLY_PRIVATE_KEY` of `.env` into a new
keystore file (mode 600), proves the file decrypts to the same key, then sets `POLY_KEYSTORE` and
clears `POLY_PRIVATE_KEY` in `.env`. A plain `POLY_PRIVATE_KEY` keeps working, with a warning.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, TextIO

from contracts.settings import Secret, Settings
from engine.cli.errors import EXIT_OK, CliError

DEFAULT_KEYSTORE = "var/keystore.json"
MIN_PASSPHRASE = 8
MAX_PASSWORD_FILE = 4096  # bytes: a passphrase, not a document
MAX_KEYSTORE = 64 * 1024
# A hostile or corrupt keystore must not make the unlock take hours or all memory.
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P, MAX_PBKDF2_C = 2**20, 16, 4, 10_000_000
PLAIN_KEY_WARNING = ("the wallet key is kept in plain text (POLY_PRIVATE_KEY in .env): encrypt it with "
                     "`python -m engine keystore import` (docs/going-live.md)")


class KeystoreError(CliError):
    """The keystore cannot be unlocked or written; the message says what to change."""


# -- unlocking ---------------------------------------------------------------------------


def unlock(settings: Settings, *, stdin: TextIO | None = None) -> Settings:
    """`settings` with the sealed secrets read from POLY_SECRETS_FILE and the wallet key decrypted
    from POLY_KEYSTORE, one passphrase for both (unchanged with neither)."""
    sealed = bool(settings.sealed_names) and not settings.unlocked
    if settings.keystore is None and not sealed:
        return settings
    document = read_keystore(settings.keystore) if settings.keystore is not None else None
    passphrase = passphrase_for(settings, stdin or sys.stdin)
    if sealed:
        settings = unseal_into(settings, passphrase)
    if settings.keystore is None or document is None:
        return settings
    key = decrypt(document, passphrase, settings.keystore)
    check_address(document, key, settings.keystore)
    return dataclasses.replace(settings, private_key=Secret(key))


def unlock_secrets(settings: Settings, *, stdin: TextIO | None = None) -> Settings:
    """Only the sealed secrets, for a process that has no use for the wallet key (the Telegram
    bot, the watchdog): the key is never decrypted into its memory."""
    if not settings.sealed_names or settings.unlocked:
        return settings
    return unseal_into(settings, passphrase_for(settings, stdin or sys.stdin))


def unseal_into(settings: Settings, passphrase: str) -> Settings:
    """The settings read again with the sealed values (contracts/sealed_secrets.py)."""
    from contracts.sealed_secrets import SealedError, read_document, unseal
    from contracts.settings import load_settings

    assert settings.secrets_file is not None  # sealed names come from it
    try:
        values = unseal(read_document(settings.secrets_file), passphrase, settings.secrets_file)
    except SealedError as exc:
        raise KeystoreError(str(exc)) from None
    return load_settings(settings.env_override, settings.root, unsealed=values)


def check_address(document: dict[str, Any], key: str, path: Path) -> None:
    """A keystore names the account its key belongs to (`address`); one that names another account
    was edited or mixed up with another file, and trading with it would sign for an account the
    operator did not mean. Refused as such, naming both addresses (never the key)."""
    from eth_account import Account

    named = document.get("address")
    if named is None:
        return  # the field is optional in the format; the key alone says whose it is
    actual = Account.from_key(key).address
    if not isinstance(named, str) or named.lower().removeprefix("0x") != actual.lower().removeprefix("0x"):
        shown = named if isinstance(named, str) else type(named).__name__
        raise KeystoreError(f"the keystore {path} names the account {str(shown)[:60]!r} but its key belongs to "
                            f"{actual}: this file was edited or belongs to another wallet. Re-create it with "
                            "`python -m engine keystore import` from the right key")


def plain_key_in_use(settings: Settings) -> bool:
    """A key configured in plain text rather than in a keystore (it works; it warns)."""
    return settings.keystore is None and settings.private_key is not None


def passphrase_for(settings: Settings, stdin: TextIO) -> str:
    """From POLY_KEYSTORE_PASSWORD_FILE when set, else asked once on the terminal."""
    if settings.keystore_password_file is not None:
        return read_password_file(settings.keystore_password_file, settings.env_file)
    what = " and ".join(f"{name} ({path})" for name, path in (("POLY_KEYSTORE", settings.keystore),
                                                               ("POLY_SECRETS_FILE", settings.secrets_file))
                        if path is not None)
    if stdin.isatty():
        import getpass

        return getpass.getpass(f"Passphrase of {what}: ")
    raise KeystoreError(
        f"{what} {'is' if ' and ' not in what else 'are'} set but there is no terminal to ask the passphrase on "
        "(supervisord starts the desk's processes without one): put the passphrase in a file readable only by "
        "you (chmod 600) and set POLY_KEYSTORE_PASSWORD_FILE to its path in .env (docs/going-live.md)")


def read_password_file(path: Path, env_file: Path) -> str:
    """The passphrase in `path`: a regular file of mode 600 (or stricter), apart from `.env`; one
    trailing newline is not part of it."""
    what = f"POLY_KEYSTORE_PASSWORD_FILE ({path})"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeystoreError(f"{what} does not exist") from None
    except OSError as exc:
        raise KeystoreError(f"{what} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeystoreError(f"{what} is not a regular file")
    if env_file.exists() and path.resolve() == env_file.resolve():
        raise KeystoreError(f"{what} is the .env file: the passphrase must live apart from the settings")
    if info.st_mode & 0o077:
        raise KeystoreError(f"{what} can be read by others (mode {stat.S_IMODE(info.st_mode):o}): "
                            f"chmod 600 {path}")
    if info.st_size > MAX_PASSWORD_FILE:
        raise KeystoreError(f"{what} is {info.st_size:,} bytes: a passphrase file holds the passphrase only")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise KeystoreError(f"{what} is not UTF-8 text") from None
    except OSError as exc:
        raise KeystoreError(f"{what} cannot be read: {exc.strerror}") from None
    passphrase = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    if not passphrase:
        raise KeystoreError(f"{what} is empty")
    return passphrase


def read_keystore(path: Path) -> dict[str, Any]:
    """The keystore's JSON, checked to be a version-3 keystore with bounded key derivation."""
    from contracts.jsonsafe import JsonRefused, loads_bounded

    what = f"POLY_KEYSTORE ({path})"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeystoreError(f"{what} does not exist: check the path, or create it with "
                            "`python -m engine keystore import`") from None
    except OSError as exc:
        raise KeystoreError(f"{what} cannot be read: {exc.strerror}") from None
    try:
        document = loads_bounded(raw, max_bytes=MAX_KEYSTORE, max_depth=6, what=what)
    except JsonRefused as exc:
        raise KeystoreError(f"{exc}: it is not a keystore file") from None
    problem = _keystore_problem(document)
    if problem:
        raise KeystoreError(f"{what} is not a usable Ethereum keystore: {problem}")
    return document


def _keystore_problem(document: Any) -> str:
    if not isinstance(document, dict) or document.get("version") != 3:
        return "expected a version 3 keystore (JSON with 'crypto' and 'version': 3)"
    crypto = document.get("crypto") or document.get("Crypto")
    if not isinstance(crypto, dict) or not isinstance(crypto.get("kdfparams"), dict):
        return "no 'crypto' section with key derivation parameters"
    params = crypto["kdfparams"]
    kdf = crypto.get("kdf")
    try:
        if kdf == "scrypt":
            n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
            if not (1 < n <= MAX_SCRYPT_N and n & (n - 1) == 0 and 0 < r <= MAX_SCRYPT_R and 0 < p <= MAX_SCRYPT_P):
                return f"scrypt parameters n={n}, r={r}, p={p} are out of the accepted range"
        elif kdf == "pbkdf2":
            if not 0 < int(params["c"]) <= MAX_PBKDF2_C:
                return "pbkdf2 iteration count out of the accepted range"
        else:
            return f"unsupported key derivation {str(kdf)[:20]!r} (scrypt or pbkdf2)"
    except (KeyError, TypeError, ValueError):
        return "malformed key derivation parameters"
    return ""


def decrypt(document: dict[str, Any], passphrase: str, path: Path) -> str:
    """The 0x-prefixed key; a wrong passphrase (or a damaged file) is said in words."""
    from eth_account import Account

    try:
        key = Account.decrypt(document, passphrase)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystoreError(f"wrong passphrase for the keystore {path} (or the file is damaged)") from None
        raise KeystoreError(f"the keystore {path} cannot be decrypted: {str(exc)[:200]}") from None
    except (KeyError, TypeError) as exc:
        raise KeystoreError(f"the keystore {path} is malformed ({type(exc).__name__})") from None
    return "0x" + bytes(key).hex()


# -- import ------------------------------------------------------------------------------


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Encrypt POLY_PRIVATE_KEY into a new keystore file, prove it decrypts, then point .env at it
    and clear the plain key from .env."""
    if settings.private_key is None:
        raise KeystoreError("POLY_PRIVATE_KEY is empty: there is no plain key to import")
    env_file = settings.env_file
    if "POLY_PRIVATE_KEY" in os.environ:
        raise KeystoreError("POLY_PRIVATE_KEY comes from the environment, not from .env: import cannot clear it "
                            "there. Put it in .env instead (or unset it and import from .env)")
    out = Path(args.out).expanduser()
    target = out if out.is_absolute() else settings.root / out
    if target.exists():
        raise KeystoreError(f"{target} already exists: choose another --out (an existing keystore is never "
                            "overwritten)")
    passphrase = _new_passphrase(settings, sys.stdin)
    from eth_account import Account
    from eth_typing import HexStr

    key = settings.private_key.reveal()
    document = Account.encrypt(HexStr(key), passphrase, kdf="scrypt")
    _write_private(target, json.dumps(document).encode())
    if decrypt(read_keystore(target), passphrase, target) != key.lower():  # noqa: S105 (a comparison)
        target.unlink()
        raise KeystoreError("the written keystore did not decrypt to the same key; nothing changed")
    from contracts.passwords import write_env_value

    write_env_value(env_file, "POLY_KEYSTORE", str(out))
    write_env_value(env_file, "POLY_PRIVATE_KEY", "")
    address = Account.from_key(key).address
    print(f"Encrypted the key of {address} to {target} (scrypt, mode 600); set POLY_KEYSTORE={out} and cleared "
          f"POLY_PRIVATE_KEY in {env_file}.\n"
          "Keep a copy of the keystore and its passphrase somewhere safe: the key cannot be recovered without "
          "both. Under supervisord (make run) the engine needs POLY_KEYSTORE_PASSWORD_FILE: a file of mode 600 "
          "holding the passphrase. Delete any old copy of .env that still holds the plain key.")
    return EXIT_OK


def _new_passphrase(settings: Settings, stdin: TextIO) -> str:
    if settings.keystore_password_file is not None:
        passphrase = read_password_file(settings.keystore_password_file, settings.env_file)
    elif stdin.isatty():
        import getpass

        passphrase = getpass.getpass("Passphrase for the new keystore: ")
        if getpass.getpass("Repeat it: ") != passphrase:
            raise KeystoreError("the two passphrases differ; nothing changed")
    else:
        passphrase = stdin.readline().rstrip("\r\n")
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeystoreError(f"the passphrase must have at least {MIN_PASSPHRASE} characters; nothing changed")
    return passphrase


def _write_private(path: Path, data: bytes, *, replace: bool = False) -> None:
    """A file of mode 600, written whole or not at all: a new one (never overwriting one that
    appeared meanwhile), or with `replace` the file in place of the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover of a write cut short
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if `path` appeared meanwhile: never overwrite a keystore
    finally:
        tmp.unlink(missing_ok=True)


def register(sub: Any) -> Any:
    """The `keystore` command and its `import`; returns its subcommands (engine/cli/seal.py adds `seal`)."""
    keystore = sub.add_parser("keystore", help="the wallet key (POLY_KEYSTORE) and the other secrets "
                                               "(POLY_SECRETS_FILE) encrypted at rest")
    actions = keystore.add_subparsers(dest="keystore_cmd", required=True)
    imported = actions.add_parser("import", help="encrypt POLY_PRIVATE_KEY from .env into a keystore file and "
                                                 "clear it from .env")
    imported.add_argument("--out", default=DEFAULT_KEYSTORE,
                          help=f"where to write the keystore (default {DEFAULT_KEYSTORE}; never overwritten)")
    imported.set_defaults(func=cmd_import)
    return actions


