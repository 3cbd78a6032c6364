"""Settings: defaults, derivation of hosts, validation with clear messages, env beats .env."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.settings import SettingsError, load_settings, secret_values


def _load(tmp_path: Path, **env: str):
    return load_settings({"TRADER_ENV_FILE": str(tmp_path / "x.env"), **env}, root=tmp_path)


def test_defaults_point_at_the_local_simulator(tmp_path: Path) -> None:
    s = _load(tmp_path)
    assert s.data_source == "simulator"
    assert (s.clob_host, s.gamma_host, s.ws_host) == (
        "http://127.0.0.1:7788", "http://127.0.0.1:7788/gamma", "ws://127.0.0.1:7788/ws/")
    assert s.db_path == tmp_path / "var" / "trader.db"
    assert s.private_key is None and not s.live_credentials_present


def test_a_new_account_signs_as_a_deposit_wallet_by_default(tmp_path: Path) -> None:
    """Without a POLY_SIGNATURE_TYPE line the account is type 3 (deposit wallet): the venue refuses
    type-0 (EOA) makers for new accounts, and a type 3 without its wallet says what is missing."""
    s = _load(tmp_path, POLY_PRIVATE_KEY="ab" * 32)
    assert s.signature_type == 3
    assert "POLY_SIGNATURE_TYPE=3 needs POLY_FUNDER" in (s.wallet_problem() or "")
    assert _load(tmp_path, POLY_PRIVATE_KEY="ab" * 32, POLY_SIGNATURE_TYPE="0").wallet_problem() is None


def test_polymarket_hosts(tmp_path: Path) -> None:
    s = _load(tmp_path, DATA_SOURCE="polymarket")
    assert s.clob_host == "https://clob.polymarket.com"
    assert s.ws_host == "wss://ws-subscriptions-clob.polymarket.com/ws/"


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    (tmp_path / "x.env").write_text("SIMULATOR_PORT=9000\nTRADER_DB=from_file.db\n")
    s = _load(tmp_path, TRADER_DB="/tmp/from_env.db")
    assert s.simulator_port == 9000 and s.db_path == Path("/tmp/from_env.db")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("DATA_SOURCE", "binance", "DATA_SOURCE must be"),
        ("SIMULATOR_PORT", "eighty", "whole number"),
        ("SIMULATOR_PORT", "70000", "between 1 and 65535"),
        ("POLY_SIGNATURE_TYPE", "7", "between 0 and 3"),
        ("POLY_FUNDER", "0x123", "40-hex-digit address"),
        ("CLOB_HOST", "ftp://x", "must start with"),
    ],
)
def test_bad_values_give_clear_errors(tmp_path: Path, key: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _load(tmp_path, **{key: value})


def test_malformed_private_key_is_not_echoed(tmp_path: Path) -> None:
    bad = "0x" + "zz" * 32
    with pytest.raises(SettingsError) as err:
        _load(tmp_path, POLY_PRIVATE_KEY=bad)
    assert bad not in str(err.value) and "POLY_PRIVATE_KEY is malformed" in str(err.value)


def test_credential_status_never_reveals_values(tmp_path: Path) -> None:
    s = _load(tmp_path, POLY_PRIVATE_KEY="ab" * 32, POLY_API_KEY="k" * 10)
    assert s.credential_status()["POLY_PRIVATE_KEY"] is True
    assert s.private_key is not None and s.private_key.reveal() == "0x" + "ab" * 32
    assert "ab" * 32 not in repr(s)


BOT_TOKEN = "123456789:AAFakeButWellFormedBotToken_-42"


def test_the_telegram_bot_is_configured_by_token_chats_and_api_url(tmp_path: Path) -> None:
    assert load_settings({"TRADER_ENV_FILE": str(tmp_path / ".env")}, root=tmp_path).telegram is None
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / ".env"), "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
                              "TELEGRAM_ALLOWED_CHATS": "42, -1001234567890,42"}, root=tmp_path)
    telegram = settings.telegram
    assert telegram is not None and telegram.allowed_chats == {42, -1001234567890}
    assert telegram.api_url == "https://api.telegram.org/bot" and repr(telegram.token) == "Secret(***)"
    assert BOT_TOKEN in secret_values(settings) and "AAFakeButWellFormedBotToken_-42" in secret_values(settings)
    assert BOT_TOKEN not in repr(settings)


@pytest.mark.parametrize(("values", "message"), [
    ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN is malformed"),
    ({"TELEGRAM_BOT_TOKEN": BOT_TOKEN}, "TELEGRAM_ALLOWED_CHATS is empty"),
    ({"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_ALLOWED_CHATS": "@me"}, "'@me' is not a chat id"),
    ({"TELEGRAM_ALLOWED_CHATS": "42"}, "TELEGRAM_BOT_TOKEN is not"),
    ({"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_ALLOWED_CHATS": "42", "TELEGRAM_API_URL": "ftp://x"},
     "TELEGRAM_API_URL must be an http(s) URL"),
])
def test_a_bad_telegram_setting_is_named_and_the_token_never_echoed(tmp_path: Path, values: dict[str, str],
                                                                    message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)) as caught:
        load_settings({"TRADER_ENV_FILE": str(tmp_path / ".env"), **values}, root=tmp_path)
    assert BOT_TOKEN not in str(caught.value) and "not-a-token" not in str(caught.value)


def test_telegram_chats_take_a_role_and_a_bad_one_is_refused() -> None:
    from contracts.roles import Role
    from contracts.settings import _telegram

    env = {"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 30,
           "TELEGRAM_ALLOWED_CHATS": "11, 22:viewer, -33:operator:kalshi"}
    found = _telegram(env)
    assert found is not None and found.allowed_chats == {11, 22, -33}
    assert [(found.access(c).role, found.access(c).venue) for c in (11, 22, -33)] == [
        (Role.OPERATOR, None), (Role.VIEWER, None), (Role.OPERATOR, "kalshi")]
    with pytest.raises(SettingsError, match="viewer"):
        _telegram({**env, "TELEGRAM_ALLOWED_CHATS": "11:admin"})
