"""A user changed by the administrator cannot act from a page already open (issue 86, item 1), in real
Chromium against the real dashboard: an operator's Overview stays open in one tab while the administrator,
in another, demotes them to viewer, gives them a new password, and removes them under Settings → Users.
Each time the operator then presses Pause or Start on the page as it was drawn (its controls sit in an
auto-refreshing fragment, which never ran the page's login check): no command is queued under their
name, and within seconds the open page shows the viewer's read-only page (demoted) or the login (a new
password, removed), no longer the desk's controls."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.request
from pathlib import Path

from storage.desk import dashboard_users
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.browser.cdp import BROWSER_MARKS, Chromium, Page
from tests.browser.layout import HEIGHT, WIDTH
from tests.browser.navigation import EXCEPTIONS, PASSWORD, click, login, open_page, settled
from tests.browser.test_foreign_text import _dashboard

pytestmark = BROWSER_MARKS
USER, FIRST, SECOND = "olive", "olive's first password", "olive's second password"
BODY = "(document.body ? document.body.innerText : '')"
LOGIN_FORM = "!!document.querySelector('.st-key-password input')"
SWITCH_S = 30  # the open page follows the change within this (its controls refresh every 2 s)


def _new_tab(chromium: Chromium) -> str:
    """A second tab of the same browser: its DevTools address."""
    request = urllib.request.Request(f"http://127.0.0.1:{chromium.port}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (127.0.0.1 only)
        return str(json.loads(answer.read())["webSocketDebuggerUrl"])


def _rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


async def _type(page: Page, key: str, value: str) -> None:
    field = f"document.querySelector('.st-key-{key} input')"
    await page.wait_for(f"!!{field}", 30, what=f"the {key} box")
    await page.evaluate(f"(() => {{ const i = {field}; i.scrollIntoView({{block: 'center'}}); i.focus(); "
                        "i.select(); })()")
    await page.type_text(value)
    await page.evaluate(f"{field}.blur()")


async def _log_in_as(page: Page, url: str, password: str) -> None:
    await page.navigate(url)
    await page.wait_for(LOGIN_FORM, 60, what="the login form")
    await _type(page, "user", USER)
    await _type(page, "password", password)
    await page.evaluate("[...document.querySelectorAll('[data-testid=\"stForm\"] button')]"
                        ".find(b => b.innerText.includes('Log in')).click()")
    await settled(page, "Overview")
    await page.wait_for(f"{BODY}.includes('Logged in as {USER} (operator')", 30, what="the operator's login")


async def _users_form(admin: Page) -> None:
    """The administrator's Settings page, on the tab that changes or removes a user (olive, the only one)."""
    await open_page(admin, "Settings", "Settings")
    await click(admin, "[...document.querySelectorAll('[role=tab]')].find(t => t.innerText === "
                       "'Change or remove a user')", "the change-a-user tab", js=True)
    await admin.wait_for("!!document.querySelector('.st-key-users_edit_confirm input')", 30, what="the change form")


async def _choose_role(admin: Page, version: int, role: str) -> None:
    box = f"document.querySelector('.st-key-users_edit_{USER}_v{version}_role button[aria-label=Open]')"
    option = f"[...document.querySelectorAll('[role=option]')].find(o => o.innerText.trim() === {role!r})"
    for _ in range(5):  # a refresh of the live header can close the list as it opens: open it again
        await admin.wait_for(f"!!{box}", 30, what="the role picker")
        await admin.evaluate(f"{box}.scrollIntoView({{block: 'center'}})")
        spot = await admin.evaluate(f"(() => {{ const r = {box}.getBoundingClientRect(); "
                                    "return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()")
        await admin.mouse_click(spot["x"], spot["y"])
        try:
            await admin.wait_for(f"!!({option})", 3, what=f"the role {role!r} offered")
            break
        except AssertionError:
            continue
    await click(admin, option, f"the role {role!r}", js=True)


async def _save(admin: Page, db_path: Path, *, version: int, role: str | None = None, password: str | None = None,
                remove: bool = False) -> None:
    """As the administrator: change olive (its role, its password) or remove her, confirmed by her name."""
    await _users_form(admin)
    if role is not None:
        await _choose_role(admin, version, role)
    if password is not None:
        await _type(admin, "users_edit_password", password)
        await _type(admin, "users_edit_repeat", password)
    await _type(admin, "users_edit_confirm", USER)
    await click(admin, f".st-key-users_edit_{'remove' if remove else 'save'} button", "the users form's button")
    expected = [] if remove else [(version + 1,)]
    await asyncio.to_thread(_wait_rows, db_path, f"SELECT version FROM dashboard_users WHERE name = '{USER}'",
                            expected)


def _wait_rows(db_path: Path, sql: str, expected: list[tuple]) -> None:
    from tests.helpers import wait_until

    wait_until(lambda: _rows(db_path, sql) == expected, 30, 0.2, f"{sql} -> {expected}")


async def _press_at_once(page: Page, key: str) -> bool:
    """Press the control as the open page still shows it, without waiting for anything: True if it was
    there to press (a page whose controls already refreshed shows none)."""
    return bool(await page.evaluate(f"(() => {{ const b = document.querySelector('.st-key-{key} button'); "
                                    "if (!b || b.disabled) return false; b.click(); return true; })()"))


def _commands_by(db_path: Path) -> list[tuple]:
    return _rows(db_path, f"SELECT kind FROM commands WHERE actor = 'dashboard:{USER}' ORDER BY id")


async def _pressed_then(page: Page, key: str, db_path: Path, shown: str, what: str) -> None:
    """Press `key` on the page as it is, then wait until the page shows `shown` (a JavaScript condition)
    or a command of hers was queued: none may be; the page must follow."""
    await _press_at_once(page, key)
    for _ in range(int(SWITCH_S / 0.2)):
        assert _commands_by(db_path) == [("pause",)], f"a command was queued by a user {what}"
        if await page.evaluate(f"!!({shown})"):
            return
        await asyncio.sleep(0.2)
    await page.wait_for(shown, 1, what=f"the open page, once she was {what}")


async def _drive(chromium: Chromium, url: str, db_path: Path) -> None:
    user = await Page.open(chromium.page_ws_url())
    admin = await Page.open(_new_tab(chromium))
    try:
        for page in (user, admin):
            await page.viewport(WIDTH, HEIGHT)
        await login(admin, url)  # the desk's own password: the administrator
        await _log_in_as(user, url, FIRST)
        await user.wait_for("document.querySelector('.st-key-btn_pause button').disabled === false", 30,
                            what="Pause offered to the operator (no engine: every control applies)")
        await click(user, ".st-key-btn_pause button", "Pause, as an operator")  # allowed: queued as hers
        await asyncio.to_thread(_wait_rows, db_path, f"SELECT kind FROM commands WHERE actor = 'dashboard:{USER}'",
                                [("pause",)])
        await settled(user, "Overview")

        # Demoted to viewer: her open Overview's Pause queues nothing; the page turns read-only.
        await _save(admin, db_path, version=1, role="viewer")
        await _pressed_then(user, "btn_pause", db_path, f"{BODY}.includes('Logged in read-only as {USER}')",
                            "demoted to viewer")
        await user.wait_for("!document.querySelector('.st-key-btn_pause')", SWITCH_S, what="no Pause for a viewer")

        # Made an operator again (her page follows), then given a new password: Pause queues nothing, and
        # the open page goes back to the login.
        await _save(admin, db_path, version=2, role="operator")
        await user.wait_for("!!document.querySelector('.st-key-btn_pause')", SWITCH_S, what="the operator's Pause back")
        await _save(admin, db_path, version=3, password=SECOND)
        await _pressed_then(user, "btn_pause", db_path, LOGIN_FORM, "given a new password")

        # Logged in again with the new password, then removed: Start queues nothing, and the open page
        # shows the login, not the desk.
        await _log_in_as(user, url, SECOND)
        await _save(admin, db_path, version=4, remove=True)
        await _pressed_then(user, "btn_start", db_path, LOGIN_FORM, "removed")
        assert "Overview" not in await user.evaluate("[...document.querySelectorAll('h1')].map(h => h.innerText)"
                                                     ".join(' ')")
        assert _commands_by(db_path) == [("pause",)]  # hers before any change, and nothing since
        assert await user.evaluate(EXCEPTIONS) == 0 and await admin.evaluate(EXCEPTIONS) == 0
    finally:
        await user.close()
        await admin.close()


def test_an_open_page_acts_only_as_the_login_is_now(tmp_path: Path) -> None:
    db_path = tmp_path / "trader.db"
    migrate(db_path)
    db = Database(db_path)
    try:
        dashboard_users.add_user(db, name=USER, password=FIRST, role="operator", venue=None, actor="test")
    finally:
        db.dispose()
    assert PASSWORD  # (the administrator's, the desk's own: tests/browser/navigation.py)
    with _dashboard(tmp_path, db_path) as url:
        chromium = Chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
        try:
            asyncio.run(_drive(chromium, url, db_path))
        except AssertionError as exc:
            log = (tmp_path / "dashboard.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"{exc}\n--- dashboard log tail ---\n{log}") from None
        finally:
            chromium.close()
