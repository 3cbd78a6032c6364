"""Every secret encrypted at rest (issue 38): `engine keystore seal` moves the API credentials,
the relayer key, the notification URLs and the Telegram token from `.env` into one sealed file
(scrypt + AES-GCM, mode 600), proved to open before `.env` changes; every process reads which
settings are sealed without the passphrase, and a process that needs them opens the file with
the keystore's passphrase (a real engine delivers a test message to a sealed NOTIFY_URLS).
A wrong passphrase, an edited file, a value both sealed and plain: each refused in words."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.sealed_secrets import SealedError, read_document, seal, sealed_names, unseal
from contracts.settings import SettingsError, load_settings
from engine.cli.keystore import KeystoreError, unlock, unlock_secrets
from tests.helpers import ROOT, EngineProcess, decoded, isolated_env
from tests.notify.test_notify_process import Receiver

PASSPHRASE = "a long sealing passphrase"
API_SECRET = "c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw=="
BOT_TOKEN = "123456789:AAbbccddeeffgghhiijjkkllmmnnoopp"


def test_a_sealed_document_opens_only_with_its_passphrase_and_its_names(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    document = seal({"POLY_API_SECRET": API_SECRET, "NOTIFY_URLS": "json://127.0.0.1:1/x"}, PASSPHRASE)
    path.write_text(json.dumps(document))
    assert sealed_names(path) == ("NOTIFY_URLS", "POLY_API_SECRET") and API_SECRET not in path.read_text()
    assert unseal(read_document(path), PASSPHRASE, path)["POLY_API_SECRET"] == API_SECRET
    with pytest.raises(SealedError, match="wrong passphrase"):
        unseal(document, "not the passphrase", path)
    with pytest.raises(SealedError, match="wrong passphrase .* edited"):  # a name removed from the list
        unseal({**document, "names": ["NOTIFY_URLS"]}, PASSPHRASE, path)
    with pytest.raises(SealedError, match="out of the accepted range"):
        unseal({**document, "kdfparams": {**document["kdfparams"], "n": 2**30}}, PASSPHRASE, path)
    with pytest.raises(SealedError, match="not a sealable setting"):
        seal({"POLY_PRIVATE_KEY": "0x1"}, PASSPHRASE)
    path.write_text('{"format": "something else"}')
    with pytest.raises(SealedError, match="not a sealed secrets file"):
        read_document(path)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[dict[str, str]]:
    password = tmp_path / "passphrase"
    password.write_text(PASSPHRASE + "\n")
    password.chmod(0o600)
    env = isolated_env(tmp_path, SIMULATOR_PORT="9")
    Path(env["TRADER_ENV_FILE"]).write_text(
        f"POLY_KEYSTORE_PASSWORD_FILE={password}\nPOLY_API_KEY=key-1\nPOLY_API_SECRET={API_SECRET}\n"
        "POLY_API_PASSPHRASE=pass-1\nTELEGRAM_BOT_TOKEN=" + BOT_TOKEN + "\nTELEGRAM_ALLOWED_CHATS=42\n")
    os.chmod(env["TRADER_ENV_FILE"], 0o600)
    yield env


def _seal(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    out = Path(env["TRADER_DB"]).parent / "var" / "secrets.sealed.json"  # never the project's own var/
    return subprocess.run([sys.executable, "-m", "engine", "keystore", "seal", "--out", str(out)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def _settings(env: dict[str, str]):  # noqa: ANN202 (Settings)
    return load_settings({k: v for k, v in env.items() if k in ("TRADER_ENV_FILE", "TRADER_DB")}, ROOT)


def test_seal_moves_the_plain_secrets_out_of_env_and_processes_open_them(desk: dict[str, str],
                                                                           tmp_path: Path) -> None:
    done = _seal(desk)
    assert done.returncode == 0, done.stderr
    assert API_SECRET not in done.stdout + done.stderr and BOT_TOKEN not in done.stdout
    env_text = Path(desk["TRADER_ENV_FILE"]).read_text()
    assert API_SECRET not in env_text and BOT_TOKEN not in env_text and "key-1" not in env_text
    settings = _settings(desk)
    assert settings.secrets_file == tmp_path / "var" / "secrets.sealed.json"
    assert stat.S_IMODE(settings.secrets_file.stat().st_mode) == 0o600
    sealed = settings.secrets_file
    assert API_SECRET not in sealed.read_text()
    # Locked (the dashboard, `status`): known to be there, empty, no error for the chats without a token.
    assert settings.sealed_names == ("POLY_API_KEY", "POLY_API_PASSPHRASE", "POLY_API_SECRET", "TELEGRAM_BOT_TOKEN")
    assert settings.api_secret is None and settings.telegram is None
    assert settings.credential_status()["POLY_API_SECRET"] is True
    opened = unlock_secrets(settings)
    assert opened.api_secret is not None and opened.api_secret.reveal() == API_SECRET
    assert opened.telegram is not None and opened.telegram.token.reveal() == BOT_TOKEN
    assert unlock(settings).api_key is not None  # the engine's route: the same file, the same passphrase
    # A new plain value is refused beside the sealed one until sealed in turn, then replaces it.
    with Path(desk["TRADER_ENV_FILE"]).open("a") as env_file:
        env_file.write("POLY_API_KEY=key-2\n")
    with pytest.raises(SettingsError, match="POLY_API_KEY is both sealed .* and set in plain text"):
        unlock_secrets(_settings(desk))
    again = _seal(desk)
    assert again.returncode == 0, again.stderr
    reopened = unlock_secrets(_settings(desk))
    assert reopened.api_key is not None and reopened.api_key.reveal() == "key-2"
    assert reopened.api_secret is not None and reopened.api_secret.reveal() == API_SECRET  # kept


def test_a_wrong_passphrase_opens_nothing_and_changes_nothing(desk: dict[str, str], tmp_path: Path) -> None:
    assert _seal(desk).returncode == 0
    (tmp_path / "passphrase").write_text("another passphrase entirely\n")
    with pytest.raises(KeystoreError, match="wrong passphrase for the sealed secrets file"):
        unlock_secrets(_settings(desk))
    with Path(desk["TRADER_ENV_FILE"]).open("a") as env_file:
        env_file.write("RELAYER_API_KEY=relayer-1\n")
    refused = _seal(desk)
    assert refused.returncode != 0 and "wrong passphrase" in refused.stderr
    assert "RELAYER_API_KEY=relayer-1" in Path(desk["TRADER_ENV_FILE"]).read_text()  # nothing changed


@pytest.mark.slow
def test_an_engine_delivers_to_sealed_notification_urls(desk: dict[str, str], tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        url = f"json://127.0.0.1:{receiver.port}/hook/sealed-token-123"
        with Path(desk["TRADER_ENV_FILE"]).open("a") as env_file:
            env_file.write(f"NOTIFY_URLS={url}\n")
        assert _seal(desk).returncode == 0
        assert "sealed-token-123" not in Path(desk["TRADER_ENV_FILE"]).read_text()
        engine = EngineProcess(tmp_path, desk)
        try:
            engine.start()
            probe = engine.run("notify_test", {"message": "through the sealed file"}, timeout=30)
            assert probe.status == "done" and decoded(probe.result)["delivered"] == 1, probe.error
            receiver.wait_for(lambda m: "through the sealed file" in m["message"], 10, "the test message")
        finally:
            engine.cleanup()
        assert "sealed-token-123" not in engine.log() and API_SECRET not in engine.log()
    finally:
        receiver.close()
