"""A live panel whose own draw moves what its probe reads (a Resume clicked in the Overview's controls:
drawn from PAUSED, showing RUNNING and "Resume: done") draws again at its next look, even when what
the probe reads has come back to the reading before that draw (paused again elsewhere, the CLI or the
bot, before that look). The same in real Chromium: tests/browser/test_dashboard_browser.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pages.widgets import live


def _page() -> None:
    import time

    import streamlit as st

    from pages.widgets import live

    st.session_state.setdefault("engine", "PAUSED")
    if st.session_state.get("look"):  # the next beat's look, before anything draws (a due panel, 10 s on)
        st.session_state["changed"] = live.due_changes(None, now=time.monotonic() + 10)  # type: ignore[arg-type]  # (its probe reads no database)

    @live.panel("controls", every_s=2, probe=lambda db: st.session_state["engine"])
    def controls() -> None:
        st.write(f"engine {st.session_state['engine']}")
        if st.button("Resume", key="resume"):
            st.session_state["engine"] = "RUNNING"  # what the engine did, answering the click

    controls()


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr(live, "_login_holds", lambda: True)
    monkeypatch.setattr(live, "_database", lambda: None)  # the probe here reads the session, not a database
    return AppTest.from_function(_page, default_timeout=30).run()


def test_a_panel_whose_draw_moved_its_probe_draws_again_after_an_aba(page: AppTest) -> None:
    page.button(key="resume").click().run()  # drawn from PAUSED; the click left RUNNING
    page.session_state["engine"] = "PAUSED"  # paused elsewhere before the next look: as at the draw
    page.session_state["look"] = True
    page.run()
    assert page.session_state["changed"] == ["controls"]


def test_a_panel_whose_probe_did_not_move_stays(page: AppTest) -> None:
    page.session_state["look"] = True
    page.run()
    assert page.session_state["changed"] == []
