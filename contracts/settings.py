"""Frozen settings for every process, read from the environment and `.env`.

Values from the real environment win over `.env` (so supervisord, tests and
scripts can override a file the operator edits). Secrets are wrapped in
`Secret`, whose repr and str never show the value, and `secret_values()` feeds
the log redaction filter.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlsplit

from dotenv import dotenv_values

from contracts.roles import Access, Role
from contracts.venues import VENUES

if TYPE_CHECKING:
    from contracts.venues.kalshi.settings import KalshiSettings

ROOT = Path(__file__).resolve().parents[1]  # the project folder (this file is contracts/settings.py)
DEFAULT_DB = "var/trader.db"
DEFAULT_SIMULATOR_PORT = 7788
DataSource = Literal["simulator", "polymarket"]

POLYMARKET_HOSTS = {
    "CLOB_HOST": "https://clob.polymarket.com",
    "GAMMA_HOST": "https://gamma-api.polymarket.com",
    "WS_HOST": "wss://ws-subscriptions-clob.polymarket.com/ws/",
    # Redemption, merging and what the venue paid (engine/venues/polymarket/settlement.py).
    "RELAYER_HOST": "https://relayer-v2.polymarket.com",
    "DATA_API_HOST": "https://data-api.polymarket.com",
    "POLYGON_RPC_URL": "https://polygon.drpc.org",
    # Public spot ticker streams, the short up/down series' fallback price (engine/feeds/spot.py).
    "OKX_WS_URL": "wss://ws.okx.com:8443/ws/v5/public",
    "BINANCE_WS_URL": "wss://stream.binance.com:9443",
    # The venue's real-time data socket: Chainlink prices, every trade (engine/venues/polymarket/rtds.py).
    "RTDS_HOST": "wss://ws-live-data.polymarket.com",
    # Where Polymarket says whether this server's address may place orders (GET /api/geoblock).
    "GEOBLOCK_HOST": "https://polymarket.com",
}
WS_KEYS = ("WS_HOST", "OKX_WS_URL", "BINANCE_WS_URL", "RTDS_HOST")
_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says how to fix it."""


@dataclass(frozen=True)
class Secret:
    """A secret value that never prints itself."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    def __str__(self) -> str:
        return "***"


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram control bot: its token (a secret), the chats it answers, where the Bot API is."""

    token: Secret
    allowed_chats: frozenset[int]
    api_url: str  # the token and the method are appended: {api_url}{token}/{method}
    commands_per_minute: int = 20
    confirm_s: int = 60
    # Each allowed chat's role (contracts/roles.py): an operator unless TELEGRAM_ALLOWED_CHATS says
    # `<id>:viewer` or `<id>:operator:<venue>`.
    chat_access: Mapping[int, Access] = field(default_factory=dict)

    def access(self, chat_id: int) -> Access:
        return self.chat_access.get(chat_id) or Access(f"telegram:{chat_id}", Role.OPERATOR, f"telegram:{chat_id}")


@dataclass(frozen=True)
class Settings:
    root: Path
    db_path: Path
    data_source: DataSource
    clob_host: str
    gamma_host: str
    ws_host: str
    simulator_port: int
    simulator_seed: int
    chain_id: int
    private_key: Secret | None
    signature_type: int
    funder: str | None
    api_key: Secret | None
    api_secret: Secret | None
    api_passphrase: Secret | None
    dashboard_password_hash: Secret | None
    crash_loop_max_restarts: int
    crash_loop_window_s: int
    command_ttl_s: int
    log_level: str
    lost_order_grace_s: int

    env_file: Path
    notify_urls: tuple[Secret, ...] = ()  # apprise URLs (NOTIFY_URLS): each a secret
    # The wallet key encrypted at rest (POLY_KEYSTORE) and where its passphrase is read from
    # (POLY_KEYSTORE_PASSWORD_FILE); engine/cli/keystore.py decrypts it into `private_key`.
    keystore: Path | None = None
    keystore_password_file: Path | None = None
    dashboard_session_hours: int = 12  # how long a dashboard login survives a reload (0: never)
    telegram: TelegramSettings | None = None  # the control bot (engine/telegram_bot/); None: not configured
    relayer_host: str = POLYMARKET_HOSTS["RELAYER_HOST"]
    data_api_host: str = POLYMARKET_HOSTS["DATA_API_HOST"]
    rpc_url: str = POLYMARKET_HOSTS["POLYGON_RPC_URL"]
    okx_ws_url: str = POLYMARKET_HOSTS["OKX_WS_URL"]
    binance_ws_url: str = POLYMARKET_HOSTS["BINANCE_WS_URL"]
    rtds_host: str = POLYMARKET_HOSTS["RTDS_HOST"]
    geoblock_host: str = POLYMARKET_HOSTS["GEOBLOCK_HOST"]
    relayer_api_key: Secret | None = None  # RELAYER_API_KEY: redeem and merge through the relayer
    relayer_api_key_address: str | None = None  # the address that owns it (default: the signer's)
    # A second, read-only dashboard login (DASHBOARD_VIEWER_PASSWORD_HASH): sees every page, changes nothing.
    dashboard_viewer_password_hash: Secret | None = None
    # The other secrets encrypted at rest (POLY_SECRETS_FILE, contracts/sealed_secrets.py): which
    # settings it holds, and whether their values were read into these settings (`unlocked`).
    secrets_file: Path | None = None
    # Kalshi's Trade API and the account's key (contracts/venues/kalshi/settings.py); None: read none.
    kalshi: KalshiSettings | None = None
    # How long the engine's start waits, retrying, for a write lock another process holds (START_LOCK_WAIT_SECONDS):
    # a lock past it is an error (engine/process/start_lock.py).
    start_lock_wait_s: int = 30
    sealed_names: tuple[str, ...] = ()
    unlocked: bool = False
    # The signals API's bearer token (SIGNALS_API_TOKEN; engine/signals_api.py): None leaves it off.
    signals_api_token: Secret | None = None
    # The bookmakers' odds feed (ODDS_FEED: an http(s) URL, which may carry the vendor's key, or a
    # file; engine/feeds/odds_reference.py): None reads none.
    odds_feed: Secret | None = None
    # The poll feed (POLLS_FEED: CSV or JSON, an http(s) URL, which may carry a key, or a file;
    # engine/outside/polls.py): None reads none.
    polls_feed: Secret | None = None
    # The environment these settings were read with (None: os.environ), to read them again unsealed.
    env_override: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def lock_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".lock")

    @property
    def live_credentials_present(self) -> bool:
        """A private key (plain, or in a keystore) is the one thing live trading cannot derive."""
        return self.private_key is not None or self.keystore is not None

    def wallet_problem(self) -> str | None:
        """A live wallet set-up that cannot work, said before any network call."""
        if self.signature_type in (1, 2, 3) and self.funder is None:
            return (f"POLY_SIGNATURE_TYPE={self.signature_type} needs POLY_FUNDER: the proxy, Safe or deposit-wallet "
                    "address that holds the money (shown on polymarket.com)")
        return None

    def notify_destinations(self) -> list[str]:
        """The scheme of each notification destination (`json`, `tgram`, ...): what the
        dashboard and the CLI may show of NOTIFY_URLS, never more."""
        return [url.reveal().split("://", 1)[0].lower() for url in self.notify_urls]

    def credential_status(self) -> dict[str, bool]:
        """Which credentials are configured, for display; never their values."""
        return {
            "POLY_KEYSTORE": self.keystore is not None,
            "POLY_PRIVATE_KEY": self.private_key is not None and self.keystore is None,
            "POLY_FUNDER": self.funder is not None,
            "POLY_API_KEY": self.api_key is not None,
            "POLY_API_SECRET": self.api_secret is not None,
            "POLY_API_PASSPHRASE": self.api_passphrase is not None,
            "RELAYER_API_KEY": self.relayer_api_key is not None or "RELAYER_API_KEY" in self.sealed_names,
        } | {name: True for name in self.sealed_names if name.startswith("POLY_")}


def load_settings(env: Mapping[str, str] | None = None, root: Path = ROOT,
                  unsealed: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `.env` under `root`, overridden by `env` (default: os.environ), with the
    sealed secrets' values when they are given (`unsealed`, read by engine/cli/keystore.py with the
    passphrase); without them a sealed setting is known to be there, and left empty."""
    from contracts.venues.kalshi.settings import kalshi_settings  # (it imports this module's Secret)

    merged = read_env(root, env)
    secrets_file = _path(root, merged.get("POLY_SECRETS_FILE"))
    sealed = _sealed_names(secrets_file)
    if unsealed is not None:
        both = sorted(n for n in sealed if merged.get(n))
        if both:
            raise SettingsError(f"{', '.join(both)} {'is' if len(both) == 1 else 'are'} both sealed in "
                                f"{secrets_file} and set in plain text: run `python -m engine keystore seal` to "
                                "seal the new value, or empty it in .env")
        merged.update({n: unsealed[n] for n in sealed if n in unsealed})
    env_file = env_file_path(root, env)
    source = _data_source(merged.get("DATA_SOURCE"))
    port = _int(merged, "SIMULATOR_PORT", DEFAULT_SIMULATOR_PORT, 1, 65535)
    hosts = _hosts(merged, source, port)
    private_key = _private_key(merged.get("POLY_PRIVATE_KEY"))
    keystore = _path(root, merged.get("POLY_KEYSTORE"))
    if keystore is not None and private_key is not None:
        raise SettingsError("POLY_KEYSTORE and POLY_PRIVATE_KEY are both set: keep the key in one place only. "
                            "Empty POLY_PRIVATE_KEY in .env (the keystore holds the key encrypted).")
    return Settings(
        root=root,
        env_file=env_file,
        db_path=_db_path(root, merged.get("TRADER_DB") or DEFAULT_DB),
        data_source=source,
        clob_host=hosts["CLOB_HOST"],
        gamma_host=hosts["GAMMA_HOST"],
        ws_host=hosts["WS_HOST"],
        simulator_port=port,
        simulator_seed=_int(merged, "SIMULATOR_SEED", 42, 0, 2**32 - 1),
        chain_id=_int(merged, "POLY_CHAIN_ID", 137, 1, 10**9),
        private_key=private_key,
        keystore=keystore,
        keystore_password_file=_path(root, merged.get("POLY_KEYSTORE_PASSWORD_FILE")),
        signature_type=_int(merged, "POLY_SIGNATURE_TYPE", 3, 0, 3),
        funder=_address(merged.get("POLY_FUNDER"), "POLY_FUNDER"),
        api_key=_secret(merged.get("POLY_API_KEY")),
        api_secret=_secret(merged.get("POLY_API_SECRET")),
        api_passphrase=_secret(merged.get("POLY_API_PASSPHRASE")),
        dashboard_password_hash=_secret(merged.get("DASHBOARD_PASSWORD_HASH")),
        dashboard_viewer_password_hash=_secret(merged.get("DASHBOARD_VIEWER_PASSWORD_HASH")),
        crash_loop_max_restarts=_int(merged, "CRASH_LOOP_MAX_RESTARTS", 5, 1, 1000),
        crash_loop_window_s=_int(merged, "CRASH_LOOP_WINDOW_MINUTES", 10, 1, 24 * 60) * 60,
        start_lock_wait_s=_int(merged, "START_LOCK_WAIT_SECONDS", 30, 1, 600),
        command_ttl_s=_int(merged, "COMMAND_TTL_SECONDS", 60, 1, 86400),
        log_level=(merged.get("LOG_LEVEL") or "INFO").upper(),
        lost_order_grace_s=_int(merged, "ORDER_LOST_GRACE_SECONDS", 15, 0, 3600),
        notify_urls=notify_urls_from(merged.get("NOTIFY_URLS")),
        dashboard_session_hours=_int(merged, "DASHBOARD_SESSION_HOURS", 12, 0, 24 * 30),
        telegram=_telegram(merged, token_sealed="TELEGRAM_BOT_TOKEN" in sealed and unsealed is None),
        relayer_host=hosts["RELAYER_HOST"],
        data_api_host=hosts["DATA_API_HOST"],
        rpc_url=hosts["POLYGON_RPC_URL"],
        okx_ws_url=hosts["OKX_WS_URL"],
        binance_ws_url=hosts["BINANCE_WS_URL"],
        rtds_host=hosts["RTDS_HOST"],
        geoblock_host=hosts["GEOBLOCK_HOST"],
        relayer_api_key=_secret(merged.get("RELAYER_API_KEY")),
        relayer_api_key_address=_address(merged.get("RELAYER_API_KEY_ADDRESS"), "RELAYER_API_KEY_ADDRESS"),
        secrets_file=secrets_file,
        kalshi=kalshi_settings(merged, simulator_base=f"http://127.0.0.1:{port}" if source == "simulator" else None),
        sealed_names=sealed,
        unlocked=unsealed is not None,
        env_override=env,
        signals_api_token=_signals_token(merged.get("SIGNALS_API_TOKEN")),
        odds_feed=_secret(merged.get("ODDS_FEED")),
        polls_feed=_secret(merged.get("POLLS_FEED")),
    )


def local_port(raw: str | None, env_name: str, default: int) -> int:
    """A port setting (1-65535; empty: `default`), or ValueError saying what is wrong."""
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 65_535:
        raise ValueError(f"{env_name}={raw!r}: a port number from 1 to 65535, e.g. {default}")
    return int(raw)


SIGNALS_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,256}")


def _signals_token(raw: str | None) -> Secret | None:
    """SIGNALS_API_TOKEN: 32 or more URL-safe characters (`python -m engine signals token` makes one)."""
    if not raw:
        return None
    if SIGNALS_TOKEN.fullmatch(raw) is None:
        raise SettingsError("SIGNALS_API_TOKEN is too weak or malformed: 32 to 256 letters, digits, '_' or '-' "
                            "(`python -m engine signals token` writes a new one to .env)")
    return Secret(raw)


def _sealed_names(path: Path | None) -> tuple[str, ...]:
    if path is None:
        return ()
    from contracts.sealed_secrets import SealedError, sealed_names

    try:
        return sealed_names(path)
    except SealedError as exc:
        raise SettingsError(str(exc)) from None


def env_file_path(root: Path = ROOT, env: Mapping[str, str] | None = None) -> Path:
    """`.env` in the project folder, unless TRADER_ENV_FILE names another (tests do)."""
    override = (os.environ if env is None else env).get("TRADER_ENV_FILE")
    return Path(override) if override else root / ".env"


def read_env(root: Path = ROOT, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`.env` values (no interpolation: hashes contain `$`) overridden by the environment."""
    path = env_file_path(root, env)
    from_file = dotenv_values(path, interpolate=False) if path.exists() else {}
    merged = {k: v for k, v in from_file.items() if v is not None}
    merged.update(os.environ if env is None else env)
    return {k: v.strip() for k, v in merged.items() if isinstance(v, str)}


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret's raw value, for the log redaction filter."""
    secrets = (
        settings.private_key,
        settings.api_key,
        settings.api_secret,
        settings.api_passphrase,
        settings.dashboard_password_hash,
        settings.dashboard_viewer_password_hash,
        settings.relayer_api_key,
        settings.signals_api_token,
    )
    values = [s.reveal() for s in secrets if s is not None]
    for feed in (settings.odds_feed, settings.polls_feed):
        if feed is not None:
            values += url_secrets(feed.reveal())
    if settings.private_key is not None:
        values.append(settings.private_key.reveal().removeprefix("0x"))
    for url in settings.notify_urls:
        values += url_secrets(url.reveal())
    if settings.telegram is not None:
        token = settings.telegram.token.reveal()
        values += [token, token.rpartition(":")[2]]  # the whole token, and its secret half alone
    if settings.kalshi is not None and settings.kalshi.private_key is not None:
        pem = settings.kalshi.private_key.reveal()  # the whole key, and each line of its body alone
        values += [pem.strip()] + [line for line in pem.splitlines() if not line.startswith("-----")]
    return [v for v in values if len(v) >= 6]


def url_secrets(url: str) -> list[str]:
    """The parts of a notification URL that may be credentials: the whole URL, its user and
    password, a host that is no host name (`tgram://<bot token>/...`, `discord://<webhook id>/...`),
    and every path segment or query value of 8 characters or more (tokens, topics, keys).
    Redacting a little too much from a log line is the safe side."""
    split = urlsplit(url)
    parts = [url]
    userinfo, at, host = split.netloc.rpartition("@")
    if at:
        parts += [userinfo, *userinfo.split(":", 1)]
    if "." not in host and not host.startswith(("localhost", "[")):
        parts.append(host)
    parts += [segment for segment in split.path.split("/") if len(segment) >= 8]
    parts += [value for _, value in parse_qsl(split.query) if len(value) >= 8]
    return [p for p in parts if p]


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_URL_START = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")
MAX_NOTIFY_URLS = 20


def notify_urls_from(raw: str | None) -> tuple[Secret, ...]:
    """Apprise URLs separated by spaces or commas (a comma inside a URL, e.g. in `?to=a,b`, stays).
    A malformed entry is named by its position, never echoed: it may hold a token."""
    if not raw or not raw.strip():
        return ()
    urls = [u.strip().rstrip(",") for u in _URL_START.split(raw.strip()) if u.strip().rstrip(",")]
    for number, url in enumerate(urls, 1):
        if not _URL.match(url):
            raise SettingsError(f"NOTIFY_URLS entry {number} is not a URL of the form scheme://... "
                                "(see docs/notifications.md). Fix it in .env.")
    if len(urls) > MAX_NOTIFY_URLS:
        raise SettingsError(f"NOTIFY_URLS holds {len(urls)} destinations; at most {MAX_NOTIFY_URLS}.")
    return tuple(Secret(u) for u in urls)


DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
_TELEGRAM_TOKEN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{20,100}$")
MAX_TELEGRAM_CHATS = 20


def _chat_access(chat: int, written: str) -> Access:
    """A chat's role as TELEGRAM_ALLOWED_CHATS writes it after its id: nothing (an operator, as before
    roles), `viewer`, `operator` or `operator:<venue>`. The bot does no administrator's work."""
    role, _, venue = written.lower().partition(":")
    who = f"telegram:{chat}"
    if role in ("", Role.OPERATOR) and (not venue or venue in VENUES):
        return Access(who, Role.OPERATOR, who, venue or None)
    if role == Role.VIEWER and not venue:
        return Access(who, Role.VIEWER, who)
    raise SettingsError(f"TELEGRAM_ALLOWED_CHATS: {f'{chat}:{written}'[:60]!r}: after a chat id, write :viewer, "
                        f":operator or :operator:<venue> (one of {', '.join(VENUES)}); see docs/notifications.md, "
                        "Telegram bot. Fix it in .env.")


def _telegram(env: Mapping[str, str], *, token_sealed: bool = False) -> TelegramSettings | None:
    """TELEGRAM_BOT_TOKEN (from BotFather), TELEGRAM_ALLOWED_CHATS (chat ids, comma-separated)
    and TELEGRAM_API_URL. No token: no bot. A token without chats is refused: a bot that answers
    nobody is a mistake, and one that answered everybody would be a hole. The token is never
    echoed in an error: it is a password to the bot."""
    raw = env.get("TELEGRAM_BOT_TOKEN") or ""
    chats_raw = env.get("TELEGRAM_ALLOWED_CHATS") or ""
    if not raw and token_sealed:
        return None  # sealed: only a process that unlocks it runs the bot
    if not raw:
        if chats_raw:
            raise SettingsError("TELEGRAM_ALLOWED_CHATS is set but TELEGRAM_BOT_TOKEN is not: put the token "
                                "BotFather gave you in .env (see docs/notifications.md: Telegram bot), or clear both.")
        return None
    if not _TELEGRAM_TOKEN.match(raw):
        raise SettingsError("TELEGRAM_BOT_TOKEN is malformed: expected the token BotFather gives, like "
                            "123456789:AA... (digits, a colon, then letters, digits, _ and -). Fix it in .env.")
    chats: set[int] = set()
    access: dict[int, Access] = {}
    for part in (p.strip() for p in chats_raw.replace(" ", ",").split(",")):
        if not part:
            continue
        chat, _, role = part.partition(":")
        if not re.fullmatch(r"-?[0-9]{1,20}", chat):
            raise SettingsError(f"TELEGRAM_ALLOWED_CHATS: {chat[:30]!r} is not a chat id (a whole number, negative "
                                "for a group; see docs/notifications.md: Telegram bot). Fix it in .env.")
        chats.add(int(chat))
        access[int(chat)] = _chat_access(int(chat), role)
    if not chats:
        raise SettingsError("TELEGRAM_BOT_TOKEN is set but TELEGRAM_ALLOWED_CHATS is empty: list the chat ids the "
                            "bot may answer (see docs/notifications.md: Telegram bot, finding your chat id).")
    if len(chats) > MAX_TELEGRAM_CHATS:
        raise SettingsError(f"TELEGRAM_ALLOWED_CHATS lists {len(chats)} chats; at most {MAX_TELEGRAM_CHATS}.")
    api = env.get("TELEGRAM_API_URL") or DEFAULT_TELEGRAM_API
    if not api.startswith(("https://", "http://")) or any(c.isspace() for c in api):
        raise SettingsError(f"TELEGRAM_API_URL must be an http(s) URL like {DEFAULT_TELEGRAM_API}, got {api[:80]!r}.")
    return TelegramSettings(token=Secret(raw), allowed_chats=frozenset(chats), api_url=api, chat_access=access,
                            commands_per_minute=_int(env, "TELEGRAM_COMMANDS_PER_MINUTE", 20, 1, 600),
                            confirm_s=_int(env, "TELEGRAM_CONFIRM_SECONDS", 60, 1, 600))


def _data_source(raw: str | None) -> DataSource:
    value = (raw or "simulator").lower()
    if value not in ("simulator", "polymarket"):
        raise SettingsError(
            f"DATA_SOURCE must be 'simulator' or 'polymarket', not {raw!r}. Fix it in .env."
        )
    return value  # type: ignore[return-value]  # one of the two literals, checked just above


def _hosts(env: Mapping[str, str], source: DataSource, port: int) -> dict[str, str]:
    if source == "simulator":
        base = f"http://127.0.0.1:{port}"
        defaults = {
            "CLOB_HOST": base,
            "GAMMA_HOST": f"{base}/gamma",
            "WS_HOST": f"ws://127.0.0.1:{port}/ws/",
            "RELAYER_HOST": f"{base}/relayer",
            "DATA_API_HOST": f"{base}/data-api",
            "POLYGON_RPC_URL": f"{base}/rpc",
            "OKX_WS_URL": f"ws://127.0.0.1:{port}/okx/ws/v5/public",
            "BINANCE_WS_URL": f"ws://127.0.0.1:{port}/binance",
            "RTDS_HOST": f"ws://127.0.0.1:{port}/rtds",
            "GEOBLOCK_HOST": base,
        }
    else:
        defaults = dict(POLYMARKET_HOSTS)
    hosts = {k: (env.get(k) or v).rstrip("/") for k, v in defaults.items()}
    hosts["WS_HOST"] += "/"
    for key, value in hosts.items():
        scheme = ("ws://", "wss://") if key in WS_KEYS else ("http://", "https://")
        if not value.startswith(scheme):
            raise SettingsError(f"{key} must start with {' or '.join(scheme)}, got {value!r}.")
    return hosts


def _db_path(root: Path, raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else root / path


def _path(root: Path, raw: str | None) -> Path | None:
    """A file named in .env: absolute, or relative to the project folder; None when empty."""
    return _db_path(root, raw) if raw else None


def _int(env: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{key} must be a whole number, got {raw!r}.") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{key} must be between {lo} and {hi}, got {value}.")
    return value


def _secret(raw: str | None) -> Secret | None:
    return Secret(raw) if raw else None


def _private_key(raw: str | None) -> Secret | None:
    if not raw:
        return None
    if not _HEX_KEY.match(raw):
        # Never echo the value: it may be a real key with a typo.
        raise SettingsError(
            "POLY_PRIVATE_KEY is malformed: expected 64 hex characters, optionally prefixed 0x."
        )
    return Secret(raw if raw.startswith("0x") else "0x" + raw)


def _address(raw: str | None, key: str) -> str | None:
    if not raw:
        return None
    if not _ADDRESS.match(raw):
        raise SettingsError(f"{key} must be a 0x-prefixed 40-hex-digit address, got {raw!r}.")
    return raw
