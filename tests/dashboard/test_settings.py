"""Settings page: the paper/live switch refuses every unsafe case with its reason (and going back
to paper is always allowed), credentials are shown as configured/missing only, and the engine
settings form validates with bounds and units."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.runtime_settings import BY_KEY, SETTINGS, SettingError, parse_setting
from storage.engine_stores.config_reads import load_runtime_config as load
from storage.sqlite.db import Database, now_ms
from tests.arming import ACCOUNT, HOST, armable, engine_read, preflight_run, promoted
from tests.dashboard.conftest import answer_next, fresh_heartbeat, table_with
from tests.dashboard.reading import as_read

KEY = "0x" + "ab" * 32
FUNDER = "0x" + "12" * 20


def _commands(db: Database) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT kind, payload FROM commands ORDER BY id"))]


def _engine(db: Database, *, state: str = "STOPPED", mode: str = "paper") -> None:
    with db.write() as conn:
        conn.execute(
            text("UPDATE engine_state SET state = :s, mode = :m, heartbeat_at = :beat, pid = 7"),
            {"s": state, "m": mode, "beat": fresh_heartbeat()},
        )


def _open_order(db: Database, mode: str = "paper") -> None:
    with db.write() as conn:
        conn.execute(
            text("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side,
                                 price, size, tif, status, status_rank, created_at, updated_at)
                             VALUES ('c1', :m, 's', 'cid', 'tok', 'YES', 'BUY', 500000, 1000000, 'GTC',
                                     'LIVE', 10,
                                     0, 0)"""),
            {"m": mode},
        )


@pytest.fixture
def with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLY_PRIVATE_KEY", KEY)
    monkeypatch.setenv("POLY_FUNDER", FUNDER)


def _go_live(page: Callable[[str], AppTest], typed: str = "LIVE") -> AppTest:
    at = page("settings")
    at.text_input(key="live_confirm").input(typed)
    at.button(key="go_live").click().run()
    assert not at.exception
    return at


def _refusal(at: AppTest) -> str:
    found = [as_read(e.value) for e in at.error if e.value.startswith("Not switched to live")]
    assert len(found) == 1, [e.value for e in at.error]
    return found[0]


def _checklist(at: AppTest) -> dict[str, str]:
    """Polymarket's arming checklist as shown (the first on the page; Kalshi's follows): each check's
    name and its line, as read."""
    shown: dict[str, str] = {}
    for m in at.markdown:
        line = as_read(m.value)
        if line.startswith((":material/check_circle:", ":material/cancel:")) and line.count("**") >= 2:
            shown[line.split("**")[1]] = line
            if line.split("**")[1] == "no open orders":
                break
    return shown


def test_going_live_when_everything_is_safe(db: Database, with_key: None, page: Callable[[str], AppTest]) -> None:
    _engine(db)
    armable(db.path)
    engine = answer_next(db, "set_mode", ok=True, result='{"mode": "live"}')
    at = _go_live(page)
    engine.join(5)
    assert all(line.startswith(":material/check_circle:") for line in _checklist(at).values())
    assert _commands(db) == [("set_mode", '{"mode": "live"}')]
    assert any("Switch to LIVE: done" in s.value for s in at.success), [s.value for s in at.success]


def test_a_live_switch_the_engine_refuses_shows_its_reason(
    db: Database, with_key: None, page: Callable[[str], AppTest]
) -> None:
    _engine(db)
    armable(db.path)
    engine = answer_next(db, "set_mode", ok=False, error="1 orders are still open")
    at = _go_live(page)
    engine.join(5)
    assert any("Switch to LIVE: failed" in e.value and "1 orders are still open" in e.value for e in at.error)
    assert not any("Switch to LIVE" in s.value for s in at.success)


def test_a_live_switch_nobody_answers_says_it_is_queued(
    db: Database, with_key: None, page: Callable[[str], AppTest]
) -> None:
    _engine(db)  # a fresh heartbeat, but no engine claims the command
    armable(db.path)
    at = _go_live(page)
    assert _commands(db) == [("set_mode", '{"mode": "live"}')]
    assert any("Switch to LIVE: queued" in w.value and "has not answered" in w.value for w in at.warning)
    assert not any("Switch to LIVE" in s.value for s in at.success)


def test_every_requirement_shows_up_front_with_its_fix(db: Database, page: Callable[[str], AppTest]) -> None:
    """Before anything is pressed: the key the engine read, the funder, a fresh preflight and its parts
    (region, wallet, approvals, a test order), a promoted strategy, the engine stopped, no open orders."""
    _engine(db)
    shown = _checklist(page("settings"))
    assert list(shown) == ["wallet key read by the engine", "funder", "preflight", "region", "wallet and funder",
                           "approvals", "test order", "a promoted strategy", "engine stopped", "no open orders"]
    for name in ("wallet key read by the engine", "preflight", "approvals", "a promoted strategy"):
        assert shown[name].startswith(":material/cancel:") and "fix: " in shown[name], shown[name]
    assert "restart the engine so it reads .env" in shown["wallet key read by the engine"]
    assert "python -m engine preflight --approve" in shown["approvals"]
    assert shown["engine stopped"].startswith(":material/check_circle:")


def test_the_key_in_env_is_not_the_key_the_engine_read(db: Database, with_key: None,
                                                        page: Callable[[str], AppTest]) -> None:
    """.env has a key, but the running engine started before it: the gate says so, not "credentials present"."""
    _engine(db)
    refusal = _refusal(_go_live(page))
    assert "wallet key read by the engine: the running engine holds no wallet key" in refusal
    assert "(no override)" in refusal and _commands(db) == []


def test_a_stale_or_foreign_preflight_does_not_count(db: Database, with_key: None,
                                                     page: Callable[[str], AppTest]) -> None:
    _engine(db)
    engine_read(db.path)
    promoted(db.path)
    preflight_run(db.path, "polymarket", ACCOUNT, HOST, at=now_ms() - 3_700_000)  # over an hour old
    preflight_run(db.path, "polymarket", ACCOUNT.replace("aa", "bb"), HOST)  # another wallet
    preflight_run(db.path, "polymarket", ACCOUNT, "https://clob.polymarket.com")  # another host
    shown = _checklist(page("settings"))
    assert "no preflight of this account on this host in the last hour" in shown["preflight"]
    preflight_run(db.path, "polymarket", ACCOUNT, HOST, failing=("approvals",))
    shown = _checklist(page("settings"))
    assert "failed at" in shown["preflight"] and "approvals" in shown["preflight"]
    assert shown["approvals"].startswith(":material/cancel:") and shown["region"].startswith(":material/check")


def test_an_override_names_each_failing_check_and_is_posted(db: Database, with_key: None,
                                                             page: Callable[[str], AppTest]) -> None:
    _engine(db)
    engine_read(db.path)
    preflight_run(db.path, "polymarket", ACCOUNT, HOST, failing=("test order (standard)",))
    at = page("settings")
    at.text_input(key="live_confirm").input("LIVE")
    at.text_input(key="live_override").input("preflight")  # one of the three failing
    at.button(key="go_live").click().run()
    refusal = _refusal(at)
    assert "test order:" in refusal and "a promoted strategy:" in refusal and _commands(db) == []
    at.text_input(key="live_override").input("preflight, test order, a promoted strategy")
    at.button(key="go_live").click().run()
    assert _commands(db) == [("set_mode", '{"mode": "live", "override": "a promoted strategy, preflight, test order"}')]


def test_no_override_passes_a_check_it_may_not(db: Database, with_key: None, page: Callable[[str], AppTest]) -> None:
    _engine(db, state="RUNNING")
    armable(db.path)
    at = page("settings")
    assert not any(e.label.startswith("Arm past") for e in at.expander)  # nothing to override: offered no box
    refusal = _refusal(_go_live(page))
    assert "engine stopped: it is RUNNING" in refusal and "(no override)" in refusal
    assert _commands(db) == []


def test_refused_with_open_orders(db: Database, with_key: None, page: Callable[[str], AppTest]) -> None:
    _engine(db)
    armable(db.path)
    _open_order(db)
    assert "no open orders: 1 open" in _refusal(_go_live(page))
    assert _commands(db) == []


@pytest.mark.parametrize("typed", ["", "live", "LIVE!", "yes"])
def test_refused_unless_live_is_typed(
    db: Database, with_key: None, page: Callable[[str], AppTest], typed: str
) -> None:
    _engine(db)
    armable(db.path)
    refusal = _refusal(_go_live(page, typed))
    assert refusal.endswith("Type LIVE (capitals) in the confirmation box.") and refusal.count("\n- ") == 1
    assert _commands(db) == []


def test_back_to_paper_is_always_allowed(db: Database, page: Callable[[str], AppTest]) -> None:
    _engine(db, state="RUNNING", mode="live")  # running, open orders, and no credentials at all
    _open_order(db, "live")
    at = page("settings")
    assert any("armed LIVE" in w.value for w in at.warning)
    at.button(key="go_paper").click().run()
    assert _commands(db) == [("set_mode", '{"mode": "paper"}')]


def test_credentials_show_as_configured_never_their_values(
    db: Database, with_key: None, page: Callable[[str], AppTest]
) -> None:
    at = page("settings")
    creds = table_with(at, "credential").set_index("credential")["status"].to_dict()
    assert creds["POLY_PRIVATE_KEY"] == "configured"
    assert creds["POLY_KEYSTORE"].startswith("not set: the key is in plain")
    assert creds["POLY_API_KEY"] == "derived from the wallet key at start"  # not "missing": the engine derives it
    shown = [str(e.value) for e in at.markdown] + [str(c.value) for c in at.caption]
    shown += [d.value.to_csv() for d in at.dataframe] + [str(t.value) for t in at.text_input]
    assert not any(KEY in s or KEY[2:] in s for s in shown)
    hosts = table_with(at, "setting").set_index("setting")["value"].to_dict()
    assert hosts["DATA_SOURCE"] == "simulator" and hosts["CLOB_HOST"].startswith("http://127.0.0.1:")
    assert any("python -m engine set-password" in c.value for c in at.code)


def test_engine_settings_save(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    at.text_input(key="setting_tick_interval_ms_v1").input("250")
    at.text_input(key="setting_paper_fail_rate_v1").input("0.1")
    at.text_input(key="setting_reference_feed_url_v1").input("wss://feed.example/ws")
    at.button(key="setting_save").click().run()
    assert not at.exception and not at.error
    with db.read() as conn:
        rows: dict[str, str] = dict(conn.execute(text("SELECT key, value FROM settings WHERE version = 2")).all())
    assert {k: json.loads(v) for k, v in rows.items()} == {
        "tick_interval_ms": 250,
        "paper_fail_rate": 0.1,
        "reference_feed_url": "wss://feed.example/ws",
    }
    assert _commands(db) == [
        (
            "reload_config",
            json.dumps({"reason": "setting.update tick_interval_ms, paper_fail_rate, reference_feed_url"}),
        )
    ]


def _bad_settings() -> list[tuple[str, str]]:
    cases = []
    for spec in (s for s in SETTINGS if s.group == "engine"):  # notifications: tests/dashboard/test_notify_panel.py
        if spec.kind is str:
            cases.append((spec.key, "http://not-a-websocket"))
            continue
        if spec.unit == "0/1":
            continue  # a toggle: it cannot be given anything but on or off
        cases += [(spec.key, "abc"), (spec.key, str(spec.maximum * 10 + 1)), (spec.key, "nan")]
        if spec.kind is int:
            cases.append((spec.key, "5.5"))
    return cases


@pytest.mark.parametrize(("key", "value"), _bad_settings())
def test_each_invalid_setting_is_refused(
    seeded: int, db: Database, page: Callable[[str], AppTest], key: str, value: str
) -> None:
    spec = next(s for s in SETTINGS if s.key == key)
    at = page("settings")
    at.text_input(key=f"setting_{key}_v1").input(value)
    at.button(key="setting_save").click().run()
    errors = [e.value for e in at.error]
    assert any(e.startswith(f"{spec.title}: ") for e in errors), errors
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM settings WHERE version > 1")).scalar() == 0
    assert _commands(db) == []


def test_concurrent_settings_change(seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("settings")
    with db.write() as conn:
        conn.execute(text("UPDATE settings SET value = '700', version = 2 WHERE key = 'tick_interval_ms'"))
    at.text_input(key="setting_tick_interval_ms_v1").input("250")
    at.button(key="setting_save").click().run()
    assert any("changed elsewhere — reload" in e.value for e in at.error)
    with db.read() as conn:
        assert (
            conn.execute(text("SELECT value FROM settings WHERE key = 'tick_interval_ms'")).scalar() == "700"
        )


@pytest.mark.parametrize(
    "raw", ["nan", "NaN", "inf", "-inf", "Infinity", float("nan"), float("inf")], ids=repr
)
@pytest.mark.parametrize("key", ["paper_fail_rate", "paper_starting_cash"])
def test_non_finite_numbers_are_refused_by_the_shared_validator(key: str, raw: object) -> None:
    # nan passes every bounds comparison, so the check must be explicit (and the engine's too).
    with pytest.raises(SettingError, match=f"^{BY_KEY[key].title}: "):
        parse_setting(BY_KEY[key], raw)


def test_the_engine_falls_back_to_defaults_for_stored_non_finite_values(db: Database) -> None:
    with db.write() as conn:
        conn.execute(
            text("""INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES
                    ('paper_fail_rate', 'NaN', 1, 0, 'x'), ('tick_interval_ms', 'Infinity', 1, 0, 'x')""")
        )
    with db.read() as conn:
        config = load(conn)
    assert config.paper_fail_rate == 0.0 and config.tick_interval_ms == 500


def test_credentials_the_engine_derives_or_does_not_need_are_not_called_missing() -> None:
    from pages.widgets.settings_panels import credential_words

    none = dict.fromkeys(("POLY_KEYSTORE", "POLY_PRIVATE_KEY", "POLY_FUNDER", "POLY_API_KEY"), False)
    said = credential_words(none)  # the wallet key is one setting of two, needed only to trade live
    assert said == {"POLY_KEYSTORE": "not set: one wallet key (this, encrypted, or POLY_PRIVATE_KEY) is needed to "
                                     "trade live",
                    "POLY_PRIVATE_KEY": "not set: POLY_KEYSTORE or this, one of the two, is needed to trade live",
                    "POLY_FUNDER": "missing", "POLY_API_KEY": "derived once a wallet key is set"}
    keystore = credential_words({**none, "POLY_KEYSTORE": True})
    assert keystore["POLY_PRIVATE_KEY"] == "not needed (the keystore holds the key)"
    assert keystore["POLY_API_KEY"] == "derived from the wallet key at start"
    plain = credential_words({**none, "POLY_PRIVATE_KEY": True})
    assert plain["POLY_KEYSTORE"].startswith("not set: the key is in plain text")
