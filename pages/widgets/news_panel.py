"""News feeds on the Settings page: the `news_feeds` setting as JSON, saved through the one
configuration writer (which validates every feed, rule and pattern, and audits the change)."""

from __future__ import annotations

import json

import streamlit as st

from charts import text
from pages.widgets.common import ACTOR
from pages.widgets.controls import saved_then_reload
from storage.dashboard_queries import status_queries as queries
from storage.desk import config
from storage.sqlite.db import Database

NEWS_TEXT, NEWS_SAVE = "news_feeds_text", "news_feeds_save"
EXAMPLE = [{"name": "wires", "url": "https://example.com/rss.xml", "poll_s": 300, "enabled": True,
            "rules": [{"signal": "fed-cut", "keywords": ["rate cut", "cuts rates"], "pattern": "",
                       "markets": {"filter": {"text": "fed", "max_markets": 3}}, "value": 0.7, "ttl_s": 3600}]}]


def news_feeds_panel(db: Database) -> None:
    row = queries.engine_settings(db).get("news_feeds")
    stored = row["value"] if row else []
    if row and row.get("problem"):
        st.error(f"The stored news feeds cannot be read ({text.markdown(row['problem'])}); "
                 "the engine keeps the feeds in force "
                 "before. Save a corrected list below.", icon=":material/error:")
    st.caption("RSS or Atom feeds, polled by the engine off its trading loop. An entry whose title or summary "
               "contains one of a rule's keywords (any case), or matches its pattern (a regular expression), "
               "writes the rule's value as the fair probability of YES for the markets the rule selects (a list "
               "of condition ids, or a filter as for a strategy), as signal `news:<signal>`, for `ttl_s` seconds "
               "from the entry's publication. Value betting trades toward it. Limits: 20 feeds, 20 rules a feed, "
               "polls every 10 s to a day.")
    typed = st.text_area("News feeds (JSON)", value=json.dumps(stored, indent=2), height=260, key=NEWS_TEXT)
    with st.expander("Example"):
        st.code(json.dumps(EXAMPLE, indent=2), language="json")
    if st.button("Save news feeds", key=NEWS_SAVE, icon=":material/save:"):
        try:
            saved = config.save_setting(db, key="news_feeds", value=typed, version=row["version"] if row else None,
                                        actor=ACTOR)
        except config.ConfigError as exc:
            st.error(text.markdown(exc), icon=":material/block:")
            return
        saved_then_reload(db, saved.reload_command_id, flash="News feeds saved.", label="Reload news feeds")
