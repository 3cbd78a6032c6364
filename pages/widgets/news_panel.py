"""News feeds on the Settings page: two tables to edit (the feeds; their rules), saved through
the one configuration writer (which validates again and audits the change). A refused save
lists each problem under the table and on the row it belongs to, all at once, and saves nothing."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from charts import text
from contracts.news import MAX_FEEDS, MAX_RULES, POLL_S, SENTIMENT_WEIGHT, TTL_S
from pages.widgets.common import actor, flash
from pages.widgets.controls import saved_then_reload
from pages.widgets.news_tables import Placed, feed_frame, feeds_from, rule_frame
from storage.dashboard_queries import status_queries as queries
from storage.desk import config
from storage.sqlite.db import Database

NEWS_FEEDS, NEWS_RULES, NEWS_SAVE = "news_feeds_table_edit", "news_rules_table_edit", "news_feeds_save"
FEED_COLUMNS: dict[str, Any] = {
    "name": st.column_config.TextColumn("name", required=True, max_chars=40,
                                        help="1 to 40 lower-case letters, digits, '_', '.' or '-'"),
    "url": st.column_config.TextColumn("feed address", required=True, width="large",
                                       help="An RSS or Atom feed's http:// or https:// address"),
    "poll_s": st.column_config.NumberColumn("poll every (s)", min_value=POLL_S[0], max_value=POLL_S[1], step=1,
                                            default=300),
    "enabled": st.column_config.CheckboxColumn("on", default=True),
}


# The feed is typed, not picked: a select box's options would change as feeds are added, and a data
# editor whose configuration changes starts over, dropping the rules being edited.
RULE_COLUMNS: dict[str, Any] = {
    "feed": st.column_config.TextColumn("feed", required=True, help="The feed's name, as in the feeds table"),
    "signal": st.column_config.TextColumn("signal", required=True, max_chars=40,
                                          help="Written as the signal news:<signal>"),
    "keywords": st.column_config.TextColumn("keywords", help="Words or phrases, comma-separated (any case)"),
    "pattern": st.column_config.TextColumn("or pattern", help="A regular expression (case-insensitive)"),
    "market_ids": st.column_config.TextColumn("markets: condition ids",
                                              help="Comma-separated; or leave empty and give a search"),
    "matching": st.column_config.TextColumn("or markets matching", help="Search text, as a strategy's filter"),
    "max_markets": st.column_config.NumberColumn("at most", min_value=1, step=1,
                                                 help="How many of the matching markets"),
    "value": st.column_config.NumberColumn("P(YES)", min_value=0.0, max_value=1.0, step=0.001, format="%.3f",
                                           help="The fair probability of YES the rule writes"),
    "ttl_s": st.column_config.NumberColumn("lasts (s)", min_value=TTL_S[0], max_value=TTL_S[1], step=1,
                                           default=3600, help="From the entry's publication"),
    "min_sentiment": st.column_config.NumberColumn("sentiment from", min_value=-1.0, max_value=1.0, step=0.05,
                                                   format="%+.2f", help="Match only headlines whose sentiment "
                                                   "(-1 most negative .. 1 most positive) is at least this"),
    "max_sentiment": st.column_config.NumberColumn("sentiment to", min_value=-1.0, max_value=1.0, step=0.05,
                                                   format="%+.2f", help="… and at most this"),
    "sentiment_weight": st.column_config.NumberColumn("× sentiment", min_value=SENTIMENT_WEIGHT[0],
                                                      max_value=SENTIMENT_WEIGHT[1], step=0.01, format="%.2f",
                                                      default=0.0, help="P(YES) written = P(YES) + this × the "
                                                      "headline's sentiment (0: the sentiment does not move it)"),
}


def news_feeds_panel(db: Database) -> None:
    row = queries.engine_settings(db).get("news_feeds")
    stored = row["value"] if row and isinstance(row["value"], list) else []
    if row and row.get("problem"):
        st.error(f"The stored news feeds cannot be read ({text.markdown(row['problem'])}); "
                 "the engine keeps the feeds in force before. Save corrected feeds below.", icon=":material/error:")
    st.caption("RSS or Atom feeds, polled by the engine off its trading loop. An entry whose title or summary "
               "contains one of a rule's keywords (any case), or matches its pattern, writes the rule's P(YES) "
               "as the fair probability for the markets the rule selects (condition ids, or the markets matching "
               "a search), as signal `news:<signal>`, for as long as the rule says from the entry's publication. "
               "Each headline is scored for sentiment (-1 to 1, a lexicon model run locally): a rule may match only "
               "within a sentiment range, and move its P(YES) by a weight times the sentiment. "
               f"Value betting trades toward it. At most {MAX_FEEDS} feeds and {MAX_RULES} rules a feed.")
    version = row["version"] if row else None
    feeds = st.data_editor(feed_frame(stored), num_rows="dynamic", hide_index=True, key=NEWS_FEEDS,
                           column_config=FEED_COLUMNS, column_order=list(FEED_COLUMNS), width="stretch",
                           placeholder="—")
    feed_slot = st.empty()
    st.markdown("**Rules** (each reads the feed it names; add a row per rule)")
    rules = st.data_editor(rule_frame(stored), num_rows="dynamic", hide_index=True, key=NEWS_RULES,
                           column_config=RULE_COLUMNS, column_order=list(RULE_COLUMNS), width="stretch",
                           placeholder="—")
    rule_slot = st.empty()
    if st.button("Save news feeds", key=NEWS_SAVE, icon=":material/save:"):
        _save(db, feeds, rules, version, (feed_slot, rule_slot))
    flash(near=NEWS_SAVE)
    with st.expander("As stored (JSON)"):
        st.code(json.dumps(stored, indent=2), language="json")


def _save(db: Database, feeds: Any, rules: Any, version: int | None, slots: tuple[Any, Any]) -> None:
    built, placed = feeds_from(feeds, rules)
    if placed:
        _show(placed, slots)
        return
    try:
        saved = config.save_setting(db, key="news_feeds", value=json.dumps(built), version=version, actor=actor())
    except config.ConfigError as exc:  # a concurrent edit, or what only the writer checks
        st.error(text.markdown(exc), icon=":material/block:")
        return
    saved_then_reload(db, saved.reload_command_id, flash="News feeds saved.", label="Reload news feeds",
                      near=NEWS_SAVE)


def _show(placed: Placed, slots: tuple[Any, Any]) -> None:
    """Each problem under its table, by the row number the table shows; a summary by the button."""
    for slot, by_row, what in ((slots[0], placed.feeds, "Feed"), (slots[1], placed.rules, "Rule")):
        if by_row:
            slot.error("\n".join(f"- {what} row {n + 1}: {text.markdown(why)}" for n in sorted(by_row)
                                 for why in by_row[n]), icon=":material/error:")
    overall = "".join(f" {text.markdown(why)}." for why in placed.overall)
    st.error(f"Nothing saved: {placed.count()} problem{'s' if placed.count() != 1 else ''}, each under its "
             f"table.{overall}", icon=":material/block:")
