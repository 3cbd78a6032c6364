"""Risk page: usage against each limit, the limits form (valid save, each invalid field,
concurrent change), re-arm, and the filterable decisions log."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.limits import BY_NAME, LIMITS
from pages.widgets.usage import usage_rows
from storage.dashboard_queries.portfolio_queries import RiskUsage
from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.reading import as_read


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def risk(seeded: int, page: Callable[[str], AppTest]) -> AppTest:
    at = page("risk")
    assert not at.exception
    return at


def test_usage_against_each_limit(risk: AppTest) -> None:
    metrics = {m.label: m.value for m in risk.metric}
    assert metrics["Trading state"] == "REDUCING" and metrics["Kill latch"] == "not set"
    assert metrics["Total exposure (pUSD)"] == "14.20"  # 9.40 held + 10 sh bid at 0.48
    assert metrics["Open orders"] == "2" and metrics["Drawdown from peak"] == "2.88 %"
    usage = table_with(risk, "label").set_index("title")
    assert usage.loc["Max total exposure", "label"] == "14.20 pUSD / 1,000.00 pUSD"
    assert usage.loc["Max open orders", "label"] == "2 count / 60 count"
    assert usage.loc["Max drawdown from peak", "pct"] == pytest.approx(28.846, rel=1e-3)
    assert any("DAILY_LOSS" in as_read(w.value) for w in risk.warning)


def test_every_limit_row_and_field_is_labelled(risk: AppTest) -> None:
    usage = table_with(risk, "label")
    covered = [name for name, _, _ in usage_rows(_no_usage())]
    assert list(usage["title"]) == [BY_NAME[name].title for name in covered]
    assert usage["label"].str.contains(" / ").all() and usage["detail"].str.len().gt(0).all()
    labels = {t.key: t.label for t in risk.text_input}
    toggles = {t.key: t.label for t in risk.toggle}
    for spec in LIMITS:  # the form: every limit, titled with its unit; an on/off one is a toggle
        if spec.unit == "flag":
            assert toggles[f"limit_{spec.name}_v1"] == spec.title
            continue
        label = labels[f"limit_{spec.name}_v1"]
        assert label.startswith(spec.title + " (") and label.endswith(")"), label


def _no_usage() -> RiskUsage:
    empty = pd.DataFrame({"condition_id": [], "question": [], "strategy": [], "event": [], "exposure": []})
    return RiskUsage(total_exposure=0.0, by_market=empty, by_strategy=empty, by_event=empty, open_orders=0,
                     orders_last_minute=0, daily_pnl=None, drawdown_pct=None, equity=None, peak_equity=None)


def test_valid_limit_save_is_audited_and_applied(risk: AppTest, db: Database) -> None:
    risk.text_input(key="limit_max_open_orders_v1").input("80")
    risk.text_input(key="limit_max_drawdown_v1").input("12.5")
    risk.button(key="limit_save").click().run()
    assert not risk.exception and not risk.error
    values = dict(_rows(db, "SELECT name, value FROM risk_limits WHERE version = 2"))
    assert values == {"max_open_orders": "80", "max_drawdown": "12.5"}
    audits = _rows(
        db,
        "SELECT entity, before, after FROM audit_log WHERE action = 'risk_limit.update' "
        "AND actor = 'dashboard'",
    )
    assert ("risk_limits:max_open_orders", '{"value": "60"}', '{"value": "80"}') in audits
    assert _rows(db, "SELECT kind FROM commands") == [("reload_config",)]
    assert risk.text_input(key="limit_max_open_orders_v2").value == "80"


def test_switching_protection_off_says_why_beside_each_field_and_saves_only_when_confirmed(
        risk: AppTest, db: Database) -> None:
    risk.text_input(key="limit_max_daily_loss_v1").input("9000000")
    risk.text_input(key="limit_kill_switch_drawdown_v1").input("100")
    risk.text_input(key="limit_max_open_orders_v1").input("70")
    risk.button(key="limit_save").click().run()
    said = [as_read(w.value) for w in risk.warning]
    assert any(w.startswith("Switches protection off: 9,000,000 pUSD is at least the account's equity") for w in said)
    assert any("Switches protection off: a fall of 100 % from the peak is the whole account: the kill switch would "
               "never trip" in w for w in said), said
    assert any("Not saved yet" in w and "Kill-switch drawdown (%)**: 20 → 100" in w for w in said), said
    assert _rows(db, "SELECT COUNT(*) FROM risk_limits WHERE version > 1") == [(0,)]  # nothing, not even the 70
    risk.button(key="limit_loosen_cancel").click().run()  # keep protection: nothing saved, the box gone
    assert not [b for b in risk.button if b.key == "limit_loosen_confirm"]
    assert risk.text_input(key="limit_kill_switch_drawdown_v1_r1").value == "20"
    risk.text_input(key="limit_kill_switch_drawdown_v1_r1").input("100")
    risk.button(key="limit_save").click().run()
    risk.button(key="limit_loosen_confirm").click().run()  # the second, explicit step
    assert not risk.exception
    assert dict(_rows(db, "SELECT name, value FROM risk_limits WHERE version = 2")) == {"kill_switch_drawdown": "100"}
    ((action, before, after),) = _rows(db, "SELECT action, before, after FROM audit_log WHERE entity = "
                                           "'risk_limits:kill_switch_drawdown'")
    assert action == "risk_limit.loosened" and before == '{"value": "20"}' and '"value": "100"' in after
    assert any("Protection switched off, as you confirmed (audited): kill_switch_drawdown" in as_read(s.value)
               for s in risk.success)
    assert any("Protects nothing as stored" in as_read(c.value) and "kill switch would never trip" in as_read(c.value)
               for c in risk.caption)  # said beside it while it stays so


def _bad() -> list[tuple[str, str]]:
    cases = []
    for spec in LIMITS:
        if spec.unit == "flag":
            continue  # a toggle: it cannot be given anything but on or off
        cases.append((spec.name, "many"))
        cases.append((spec.name, str(spec.maximum + 1)))
        if spec.unit in ("count", "per minute"):
            cases.append((spec.name, "0.5"))
    return cases


@pytest.mark.parametrize(("name", "value"), _bad())
def test_each_invalid_limit_is_refused_inline(risk: AppTest, db: Database, name: str, value: str) -> None:
    spec = next(s for s in LIMITS if s.name == name)
    risk.text_input(key="limit_max_total_exposure_v1").input("900")  # a valid change alongside
    risk.text_input(key=f"limit_{name}_v1").input(value)
    risk.button(key="limit_save").click().run()
    errors = [e.value for e in risk.error]
    assert any(e.startswith(f"{spec.title}: ") for e in errors), errors
    assert "Nothing saved: fix the fields marked above." in errors
    assert _rows(db, "SELECT COUNT(*) FROM risk_limits WHERE version > 1") == [(0,)]
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]


def test_concurrent_limit_change_refuses_the_whole_save(risk: AppTest, db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE risk_limits SET value = '70', version = 2 WHERE name = 'max_open_orders'"))
    risk.text_input(key="limit_max_total_exposure_v1").input("900")
    risk.text_input(key="limit_max_open_orders_v1").input("80")
    risk.button(key="limit_save").click().run()
    assert any("changed elsewhere — reload" in e.value for e in risk.error)
    assert dict(
        _rows(
            db, "SELECT name, value FROM risk_limits WHERE name IN ('max_total_exposure', 'max_open_orders')"
        )
    ) == {"max_total_exposure": "1000", "max_open_orders": "70"}
    risk.button(key="limit_reload").click().run()
    assert risk.text_input(key="limit_max_open_orders_v2_r1").value == "70"


def test_reload_drops_a_refused_entry(risk: AppTest, db: Database) -> None:
    """Typed, refused, reloaded: the field shows the stored value again, not what was refused."""
    risk.text_input(key="limit_max_open_orders_v1").input("abc")
    risk.button(key="limit_save").click().run()
    assert "Nothing saved: fix the fields marked above." in [e.value for e in risk.error]
    risk.button(key="limit_reload").click().run()
    assert not risk.exception
    field = next(t for t in risk.text_input if t.label.startswith("Max open orders"))
    assert field.value == "60"
    assert not [e.value for e in risk.error if "Nothing saved" in e.value]


def test_limits_on_a_fresh_database_are_inserted(db: Database, page: Callable[[str], AppTest]) -> None:
    at = page("risk")
    assert at.text_input(key="limit_max_daily_loss_v0").value == "100"  # the catalogue default
    at.text_input(key="limit_max_daily_loss_v0").input("250")
    at.button(key="limit_save").click().run()
    assert _rows(db, "SELECT value, version FROM risk_limits") == [("250", 1)]


def test_rearm_from_the_risk_page(db: Database, seeded: int, page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(
            text("UPDATE engine_state SET state = 'KILLED', kill_latched = 1, kill_reason = 'spike'")
        )
    at = page("risk")
    assert any("Kill latch set: spike" in e.value for e in at.error)
    at.button(key="risk_rearm").click().run()
    assert _rows(db, "SELECT COUNT(*) FROM commands") == [(0,)]
    at.button(key="rearm_confirm").click().run()
    assert _rows(db, "SELECT kind, actor FROM commands") == [("rearm", "dashboard")]


def test_decisions_log_filters(risk: AppTest) -> None:
    table = table_with(risk, "reason")
    assert "requested" not in table.columns  # a detail, on demand
    risk.toggle(key="cols_decisions").set_value(True).run()
    table = table_with(risk, "reason")
    assert set(table["reason"]) == {"TRADING_REDUCING", "MAX_MARKET_EXPOSURE"}
    resized = table[table["reason"] == "MAX_MARKET_EXPOSURE"].iloc[0]
    assert resized["requested"] == pytest.approx(10) and resized["approved"] == pytest.approx(4)
    risk.selectbox(key="dec_reason").set_value("MAX_MARKET_EXPOSURE").run()
    assert list(table_with(risk, "reason")["reason"]) == ["MAX_MARKET_EXPOSURE"]
    risk.selectbox(key="dec_strategy").set_value("vb-election").run()
    assert "No trims or refusals match" in "\n".join(c.value for c in risk.caption)


def test_limit_values_round_trip_as_the_engine_reads_them(risk: AppTest, db: Database) -> None:
    from storage.engine_stores.config_reads import load_limits as load_checked

    risk.text_input(key="limit_max_slippage_v1").input("0.075")
    risk.button(key="limit_save").click().run()
    with db.read() as conn:
        limits, problems, _ = load_checked(conn, {})
    assert not problems and limits.values["max_slippage"] == Decimal("0.075")


def test_decisions_log_shows_only_the_current_modes_ledger(
    db: Database, seeded: int, page: Callable[[str], AppTest]
) -> None:
    with db.write() as conn:
        conn.execute(
            text(
                """INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved,
                        action, reason, detail) VALUES (:at, 'live', 'mm-btc', '0xbtc100k', 'BUY', 480000,
                        10000000, 0, 'deny', 'STALE_DATA', 'book 12 s old')"""
            ),
            {"at": seeded - 10_000},
        )
    at = page("risk")
    at.toggle(key="cols_decisions").set_value(True).run()  # every column: the mode too
    paper = table_with(at, "reason")
    assert set(paper["mode"]) == {"paper"} and "STALE_DATA" not in set(paper["reason"])
    assert "STALE_DATA" not in at.selectbox(key="dec_reason").options
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
    at = page("risk")
    at.toggle(key="cols_decisions").set_value(True).run()
    live = table_with(at, "reason")
    assert list(live["mode"]) == ["live"] and list(live["reason"]) == ["STALE_DATA"]


@pytest.mark.parametrize("garbage", ["abc", "NaN", "-1", "1e999999", "Infinity"])
def test_a_garbage_stored_limit_never_crashes_the_page_and_can_be_fixed(
    garbage: str, db: Database, seeded: int, page: Callable[[str], AppTest]
) -> None:
    with db.write() as conn:  # written around the dashboard (a script, an old version)
        conn.execute(text("UPDATE risk_limits SET value = :v WHERE name = 'max_open_orders'"), {"v": garbage})
    at = page("risk")
    assert not at.exception
    assert any("Max open orders" in e.value and "do not validate" in e.value for e in at.error)
    assert any(m.label == "Trading state" for m in at.metric)  # the rest of the page is there
    field = next(t for t in at.text_input if t.key.startswith("limit_max_open_orders"))
    assert field.value == garbage
    field.input("25")
    at.button(key="limit_save").click().run()
    assert not at.exception
    assert _rows(db, "SELECT value FROM risk_limits WHERE name = 'max_open_orders'") == [("25",)]
