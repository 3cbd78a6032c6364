"""The wallet key encrypted at rest (POLY_KEYSTORE): `keystore import` from a plain .env key, the
engine started as supervisord starts it (no terminal) with a password file, the passphrase asked
once on a real terminal (a pty), and the refusals that say what to change. The decrypted key and
the passphrase never reach the log, the database, a command line or a process's environment."""

from __future__ import annotations

import json
import os
import pty
import secrets
import select
import sqlite3
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_typing import HexStr

from contracts.settings import SettingsError, load_settings
from engine.cli.keystore import KeystoreError, read_keystore, read_password_file, unlock
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import ROOT, EngineProcess, isolated_env, run_cli, seed_desk, wait_until

PASSPHRASE = "correct horse battery staple"
FAST_SCRYPT = 2**12  # tests write small keystores; `keystore import` uses eth-account's standard 2**18


def _private(path: Path, data: str) -> Path:
    path.write_text(data)
    path.chmod(0o600)
    return path


def _keystore(tmp: Path, key: str, passphrase: str = PASSPHRASE) -> Path:
    return _private(tmp / "wallet.json", json.dumps(Account.encrypt(HexStr(key), passphrase, kdf="scrypt",
                                                                    iterations=FAST_SCRYPT)))


def _env_file(tmp: Path, text: str) -> Path:
    return _private(tmp / "test.env", text)


# -- reading the passphrase and the keystore ----------------------------------------------


def test_the_password_file_must_be_private_apart_from_env_and_not_empty(tmp_path: Path) -> None:
    env_file = _env_file(tmp_path, "DATA_SOURCE=simulator\n")
    good = _private(tmp_path / "pass", PASSPHRASE + "\n")
    assert read_password_file(good, env_file) == PASSPHRASE  # one trailing newline is not part of it
    assert read_password_file(_private(tmp_path / "crlf", "a b \r\n"), env_file) == "a b "
    good.chmod(0o640)
    with pytest.raises(KeystoreError, match=r"can be read by others \(mode 640\): chmod 600"):
        read_password_file(good, env_file)
    with pytest.raises(KeystoreError, match="is the .env file"):
        read_password_file(env_file, env_file)
    with pytest.raises(KeystoreError, match="is empty"):
        read_password_file(_private(tmp_path / "empty", "\n"), env_file)
    with pytest.raises(KeystoreError, match="does not exist"):
        read_password_file(tmp_path / "missing", env_file)
    with pytest.raises(KeystoreError, match="holds the passphrase only"):
        read_password_file(_private(tmp_path / "big", "x" * 5000), env_file)


def test_a_keystore_that_is_not_one_or_would_take_forever_is_refused(tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    document = Account.encrypt(HexStr(key), PASSPHRASE, kdf="scrypt", iterations=FAST_SCRYPT)
    document["crypto"]["kdfparams"]["n"] = 2**30  # hours of scrypt and gigabytes of memory
    with pytest.raises(KeystoreError, match="scrypt parameters n=1073741824"):
        read_keystore(_private(tmp_path / "slow.json", json.dumps(document)))
    with pytest.raises(KeystoreError, match="not a keystore file"):
        read_keystore(_private(tmp_path / "junk.json", "not json"))
    with pytest.raises(KeystoreError, match="version 3 keystore"):
        read_keystore(_private(tmp_path / "other.json", '{"address": "x"}'))
    with pytest.raises(KeystoreError, match="does not exist"):
        read_keystore(tmp_path / "none.json")


def test_settings_name_the_key_in_one_place_only(tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    env = {"TRADER_ENV_FILE": str(_env_file(tmp_path, "")), "POLY_KEYSTORE": str(tmp_path / "wallet.json")}
    settings = load_settings(env)
    assert settings.live_credentials_present and settings.private_key is None  # locked until unlocked
    assert settings.credential_status()["POLY_KEYSTORE"] and not settings.credential_status()["POLY_PRIVATE_KEY"]
    with pytest.raises(SettingsError, match="both set") as err:
        load_settings({**env, "POLY_PRIVATE_KEY": key})
    assert key[2:] not in str(err.value)


def test_unlock_decrypts_with_the_password_file_and_says_when_the_passphrase_is_wrong(tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    wallet = _keystore(tmp_path, key)
    env = {"TRADER_ENV_FILE": str(_env_file(tmp_path, "")), "POLY_KEYSTORE": str(wallet),
           "POLY_KEYSTORE_PASSWORD_FILE": str(_private(tmp_path / "pass", PASSPHRASE))}
    unlocked = unlock(load_settings(env))
    assert unlocked.private_key is not None and unlocked.private_key.reveal() == key
    _private(tmp_path / "pass", "not the passphrase")
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        unlock(load_settings(env))


def test_a_keystore_naming_another_account_is_refused_as_such(tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    other = Account.create().address
    wallet = _keystore(tmp_path, key)
    document = json.loads(wallet.read_text())
    document["address"] = other[2:].lower()  # the format's spelling: hex without 0x
    _private(wallet, json.dumps(document))
    env = {"TRADER_ENV_FILE": str(_env_file(tmp_path, "")), "POLY_KEYSTORE": str(wallet),
           "POLY_KEYSTORE_PASSWORD_FILE": str(_private(tmp_path / "pass", PASSPHRASE))}
    with pytest.raises(KeystoreError) as refused:
        unlock(load_settings(env))
    message = str(refused.value)
    assert other[2:].lower() in message and Account.from_key(key).address in message
    assert "belongs to another wallet" in message and key[2:] not in message
    document["address"] = Account.from_key(key).address.upper()[2:]  # the same account in other case: fine
    _private(wallet, json.dumps(document))
    assert unlock(load_settings(env)).private_key.reveal() == key


@pytest.mark.slow
def test_the_engine_refuses_to_start_on_a_keystore_naming_another_account(tmp_path: Path, sim: SimHandle) -> None:
    engine, key, _ = _live_keystore_desk(tmp_path, sim,
                                         POLY_KEYSTORE_PASSWORD_FILE=str(_private(tmp_path / "pass", PASSPHRASE)))
    wallet = Path(engine.env["POLY_KEYSTORE"])
    document = json.loads(wallet.read_text())
    document["address"] = Account.create().address[2:].lower()
    _private(wallet, json.dumps(document))
    try:
        engine.start(wait=False)
        assert engine.proc is not None and engine.proc.wait(60) == 1
    finally:
        engine.cleanup()
    log = engine.log()
    assert "names the account" in log and Account.from_key(key).address in log and "Traceback" not in log
    assert key[2:] not in log
    with sqlite3.connect(engine.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


# -- keystore import ----------------------------------------------------------------------


def test_import_encrypts_the_plain_key_and_clears_it_from_env(tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    env_file = _env_file(tmp_path, f"# live trading\nPOLY_PRIVATE_KEY={key}\nPOLY_SIGNATURE_TYPE=3\n")
    env = isolated_env(tmp_path)
    out = tmp_path / "keys" / "wallet.json"
    short = run_cli(["keystore", "import", "--out", str(out)], env, input_text="short\n")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr and not out.exists()

    result = run_cli(["keystore", "import", "--out", str(out)], env, input_text=PASSPHRASE + "\n")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "0x" + bytes(Account.decrypt(out.read_text(), PASSPHRASE)).hex() == key
    assert json.loads(out.read_text())["crypto"]["kdf"] == "scrypt"
    text = env_file.read_text()
    assert key[2:] not in text and f"POLY_KEYSTORE={out}" in text
    assert text.splitlines()[:2] == ["# live trading", "POLY_PRIVATE_KEY="]  # cleared where it was
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert key[2:] not in result.stdout + result.stderr and PASSPHRASE not in result.stdout + result.stderr
    assert Account.from_key(key).address in result.stdout

    again = run_cli(["keystore", "import", "--out", str(out)], env, input_text=PASSPHRASE + "\n")
    assert again.returncode == 1 and "no plain key" in again.stderr  # nothing left to import


def test_import_never_overwrites_a_keystore(tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    _env_file(tmp_path, f"POLY_PRIVATE_KEY={key}\n")
    out = _private(tmp_path / "wallet.json", "precious")
    result = run_cli(["keystore", "import", "--out", str(out)], isolated_env(tmp_path), input_text=PASSPHRASE + "\n")
    assert result.returncode == 1 and "already exists" in result.stderr
    assert out.read_text() == "precious" and key in (tmp_path / "test.env").read_text()


# -- the engine process -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=29, agents=False) as handle:
        yield handle


def _live_keystore_desk(tmp: Path, sim: SimHandle, **extra: str) -> tuple[EngineProcess, str, str]:
    """A live desk (deposit wallet, market maker) whose key is only in a keystore; returns the
    engine, the key and the funder."""
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    _env_file(tmp, "")
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), POLY_KEYSTORE=str(_keystore(tmp, key)),
                       POLY_SIGNATURE_TYPE="3", POLY_FUNDER=funder, **extra)
    seed_desk(Path(env["TRADER_DB"]), mode="live", strategies=[
        ("mm", "market_making", {"size": 20, "half_spread": 0.03}, {"filter": {"max_markets": 2}})])
    return EngineProcess(tmp, env), key, funder


def _process_text(pid: int) -> bytes:
    """What anyone on the machine could read of a process: its command line and environment,
    and those of its children."""
    proc = Path(f"/proc/{pid}")
    found = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
    for task in (proc / "task").iterdir():
        children = task / "children"  # absent on kernels without CONFIG_PROC_CHILDREN
        for child in children.read_text().split() if children.exists() else ():
            found += _process_text(int(child))
    return found


def _database_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*") if p.is_file())


def _live_orders(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM orders WHERE mode = 'live' AND status = 'LIVE'").fetchone()[0])


@pytest.mark.slow
def test_the_engine_started_without_a_terminal_unlocks_with_the_password_file_and_trades_live(
        tmp_path: Path, sim: SimHandle) -> None:
    password_file = _private(tmp_path / "passphrase", PASSPHRASE + "\n")
    engine, key, funder = _live_keystore_desk(tmp_path, sim, POLY_KEYSTORE_PASSWORD_FILE=str(password_file))
    try:
        engine.start(wait=False)
        engine.wait_alive(60)
        # Orders signed with the keystore's key, accepted by the venue for the deposit wallet.
        wait_until(lambda: sim.open_order_count(funder) > 0, 30, 0.1, what="live quotes at the venue")
        # The venue holds an order before its answer reaches the engine, which then records it LIVE.
        wait_until(lambda: _live_orders(engine.db_path) > 0, 30, 0.1, what="the venue's answer recorded")
        assert engine.proc is not None
        exposed = _process_text(engine.proc.pid)
        engine.terminate()
    finally:
        engine.cleanup()
    hexkey = key[2:].encode()
    for name, blob in (("the log", engine.log().encode()), ("the database", _database_bytes(engine.db_path)),
                       ("a command line or environment", exposed)):
        assert hexkey not in blob.lower(), f"the key reached {name}"
        assert PASSPHRASE.encode() not in blob, f"the passphrase reached {name}"
    assert "plain text" not in engine.log()  # no plain-key warning: the key is encrypted


@pytest.mark.slow
def test_with_no_terminal_and_no_password_file_the_engine_says_what_to_set(tmp_path: Path, sim: SimHandle) -> None:
    engine, _, _ = _live_keystore_desk(tmp_path, sim)
    try:
        engine.start(wait=False)
        assert engine.proc is not None and engine.proc.wait(60) == 1
    finally:
        engine.cleanup()
    assert "no terminal to ask the passphrase on" in engine.log() and "POLY_KEYSTORE_PASSWORD_FILE" in engine.log()
    assert "Traceback" not in engine.log()
    with sqlite3.connect(engine.db_path) as conn:  # it stopped before it started: no heartbeat, no orders
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


@pytest.mark.slow
def test_a_plain_key_still_trades_with_a_warning(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3",
                       POLY_FUNDER=funder)
    seed_desk(Path(env["TRADER_DB"]), mode="live", strategies=[
        ("mm", "market_making", {"size": 20, "half_spread": 0.03}, {"filter": {"max_markets": 2}})])
    engine = EngineProcess(tmp_path, env)
    try:
        engine.start(wait=False)
        engine.wait_alive(60)
        wait_until(lambda: sim.open_order_count(funder) > 0, 30, 0.1, what="live quotes at the venue")
    finally:
        engine.cleanup()
    assert "keystore import" in engine.log() and key[2:] not in engine.log()


def _on_a_terminal(args: list[str], env: dict[str, str], answer: str, timeout: float = 60) -> tuple[int, str]:
    """Run `python -m engine ARGS` on a new pseudo-terminal (its controlling terminal, as in an
    SSH session), type `answer` at the first prompt, and return its exit code and screen."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once, nothing else
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "engine", *args], env)
    screen = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal: it has finished
                    break
                if not chunk:
                    break
                screen += chunk
            if not answered and b"Passphrase" in screen:
                os.write(fd, answer.encode() + b"\n")
                answered = True
        else:
            os.kill(pid, 9)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")


@pytest.mark.slow
def test_on_a_terminal_the_passphrase_is_asked_once_and_not_echoed(tmp_path: Path, sim: SimHandle) -> None:
    engine, key, funder = _live_keystore_desk(tmp_path, sim)
    engine.cleanup()  # only its desk is used: cancel-all needs no engine
    code, screen = _on_a_terminal(["cancel-all"], engine.env, PASSPHRASE)
    assert code == 0, screen
    assert screen.count("Passphrase of POLY_KEYSTORE") == 1
    assert PASSPHRASE not in screen and key[2:] not in screen.lower()
    assert '"live": 0' in screen  # it reached the venue with the key: nothing was open to cancel
    code, screen = _on_a_terminal(["cancel-all"], engine.env, "wrong passphrase")
    assert code == 1 and "wrong passphrase for the keystore" in screen
