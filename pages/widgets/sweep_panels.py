"""The Backtest page's Sweep tab: launch a parameter sweep, follow it, inspect its trials
(table, objective by trial and against each param, Optuna's importance, held-out scores) and
use a trial's params in a configured strategy (audited, with a reload)."""

from __future__ import annotations

import json
import math
import re
import time as clock
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from charts import sweep as figures
from charts import text
from charts.history_words import best_trial_ends, ends_before_resolution
from contracts.latency_spec import LatencyError, parse_latency
from contracts.strategy_fit import ORDER_SIZE_PARAMS
from contracts.strategy_kinds import registry
from contracts.sweep_spec import OBJECTIVES, SweepError, SweepSpec, check_spec, default_name, parse_space
from contracts.sweep_workers import worker_budget
from pages.widgets.backtest_form import default_range, desk_latency, to_ms
from pages.widgets.common import actor, flash, live_fragment, plural, read_only, utc
from pages.widgets.controls import saved_then_reload
from pages.widgets.figures import CHART_CONFIG
from pages.widgets.market_picker import market_picker
from pages.widgets.session_panel import session_caption, session_picker
from pages.widgets.sweep_launch import launch_sweep, merged_params, ran_with, sweep_alive, sweep_log_path, use_params
from pages.widgets.sweep_space import RANGE, SCALES, space_frame, space_from
from reports import sweep as sweep_report
from storage.dashboard_queries import trading_queries
from storage.desk.config import ConfigError, StaleVersion
from storage.research import backtest_queries
from storage.research.sweep_queries import SweepView, param_importance, sweep_list, sweep_view, sweeps_storage
from storage.sqlite.db import Database

SW_KIND, SW_BASE, SW_SPACE, SW_OBJECTIVE, SW_SAMPLER = "sw_kind", "sw_base", "sw_space", "sw_objective", "sw_sampler"
SW_TRIALS, SW_JOBS, SW_SEED, SW_SPLIT, SW_TOP = "sw_trials", "sw_jobs", "sw_seed", "sw_split", "sw_top"
SW_FROM, SW_TO, SW_MARKETS, SW_NAME, SW_LAUNCH = "sw_from", "sw_to", "sw_markets", "sw_name", "sw_launch"
SW_SESSION = "sw_session"
SW_PICK, SW_PICK_NEXT, SW_TRIAL, SW_TARGET = "sw_pick", "sw_pick_next", "sw_trial", "sw_target"
SW_CONFIRM, SW_USE, SW_RESUME = "sw_confirm", "sw_use", "sw_resume"
SW_STARTING = "sw_starting"  # sweeps this session launched whose study does not exist yet
SW_LAUNCHED = "sw_launched"  # what Launch or Resume said, shown in the Sweep tab
DEFAULTS = "the kind's defaults"
NO_SPLIT = 1.0
REFRESH_S = 2
# A trial's PnL with its 95 % interval and p-value against zero (engine/backtest/confidence.py).
PNL_COLUMN_CONFIG: dict[str, Any] = {
    "pnl": st.column_config.NumberColumn("PnL (pUSD)", format="%+.2f"),
    "pnl_low": st.column_config.NumberColumn("95 % from", format="%+.2f"),
    "pnl_high": st.column_config.NumberColumn("95 % to", format="%+.2f"),
    "pnl_p": st.column_config.NumberColumn("p against 0", format="%.3f",
                                           help="How often runs drawn from the trial's round trips land across zero "
                                                "(both sides counted; never below what their number allows); not "
                                                "corrected for the trials tried"),
    "pnl_sure": st.column_config.TextColumn("How sure", help="What the interval rests on (round trips), or why "
                                                             "there is none"),
}
SPACE_EXAMPLES: dict[str, dict[str, list[Any]]] = {
    "market_making": {"half_spread": [0.005, 0.05], "size": [5, 50, "int"]},
    "complement_arb": {"max_size": [5, 100, "int"]},
    "momentum": {"position_size": [5, 50, "int"]},
    "value_betting": {"edge": [0.01, 0.1]},
    "copy_trading": {"scale": [0.05, 1.0]},
    "cross_venue_arb": {"margin": [0.005, 0.05]},
    "ladder": {"spacing": [0.005, 0.05], "levels": [1, 6, "int"]},
    "accumulate": {"interval_s": [30, 3600, "int"]},
    "relative_value": {"entry_z": [1.0, 3.0]},
    "breakout": {"window_s": [300, 7200, "int"], "margin": [0.0, 0.05]},
    "ensemble": {"edge": [0.01, 0.1], "min_confidence": [0.0, 0.9]},
}
OBJECTIVE_HELP = ("What a trial scores, per day of data so the training and held-out periods compare: "
                  "sharpe (of the period returns, scaled to a day), return, calmar (return / max drawdown), "
                  "markout (the fills' 60 s markout in pUSD: what they earned against the mid a minute later)")


def _base(configured: pd.DataFrame, kind: str) -> tuple[dict[str, Any], str]:
    names = list(configured.loc[configured["kind"] == kind, "name"]) if not configured.empty else []
    base = st.selectbox("Fixed params from", [DEFAULTS, *names], key=SW_BASE,
                        help="Params not searched keep these values (a configured strategy's, or the defaults)")
    row = trading_queries.strategy_rows(configured).get(base) if base != DEFAULTS else None
    return (dict(row.params) if row is not None else {}), base


def space_example(kind: str, floor: float | None) -> str:
    """The search space a new sweep starts from, its order-size range starting no lower than
    `floor` (the largest minimum order size of the markets in play: below it every quote is
    refused, and those trials would only measure the refusals)."""
    space = {name: list(bounds) for name, bounds in SPACE_EXAMPLES.get(kind, {}).items()}
    for name, bounds in space.items():
        if name in ORDER_SIZE_PARAMS and floor is not None and bounds[0] < floor:
            low = math.ceil(floor)
            bounds[:2] = [low, max(bounds[1], 4 * low)]
    return json.dumps(space)


def _range_and_markets(db: Database) -> tuple[int | None, int | None, list[str], float | None]:
    session = session_picker(db, key=SW_SESSION, markets_key=SW_MARKETS)
    if session is not None:  # its span; its markets are picked below (and may be changed)
        st.caption(session_caption(session))
        from_ms: int | None
        to_ms_: int | None
        from_ms, to_ms_ = session.span(int(clock.time() * 1000))
    else:
        bounds = backtest_queries.backtest_data_bounds(db, "recorded")
        start, end = default_range(bounds, int(clock.time() * 1000))
        left, right = st.columns(2)
        start_in = left.datetime_input("From (UTC)", value=start, key=SW_FROM, step=60, format="YYYY-MM-DD")
        end_in = right.datetime_input("To (UTC)", value=end, key=SW_TO, step=60, format="YYYY-MM-DD")
        from_ms, to_ms_ = to_ms(start_in), to_ms(end_in)
    chosen = [c for c in st.session_state.get(SW_MARKETS, []) if isinstance(c, str)]
    choices = backtest_queries.backtest_market_choices(db, "recorded", from_ms or 0, to_ms_ or 0, include=tuple(chosen))
    markets = market_picker("Markets (none: every market with ticks in the range)", choices, key=SW_MARKETS,
                            unit="ticks", chosen=chosen, placeholder="Every market with ticks in the range")
    in_play = markets or [str(c) for c in choices.loc[choices["events"] > 0, "condition_id"]]
    return from_ms, to_ms_, markets, max(backtest_queries.market_min_sizes(db, in_play).values(), default=None)


def _space_editor(kind: str, floor: float | None) -> tuple[dict[str, Any], dict[int, str]]:
    """The search space as a table (a row per param); each row's problem shows under it, as it is edited."""
    schema = registry()[kind].params_schema
    columns = {
        "param": st.column_config.SelectboxColumn("param", options=[p.name for p in schema], required=True),
        "scale": st.column_config.SelectboxColumn("search", options=list(SCALES), required=True, default=RANGE,
                                                  help="A range (whole numbers for a whole-number param), a log "
                                                       "range (for values spanning magnitudes), or a list"),
        "low": st.column_config.NumberColumn("low", format="%g"),
        "high": st.column_config.NumberColumn("high", format="%g"),
        "choices": st.column_config.TextColumn("or choices", help="For a list: the values, comma-separated"),
    }
    st.markdown("**Search space** (a row per param to search; the others keep their fixed values)")
    frame = st.data_editor(space_frame(json.loads(space_example(kind, floor))), num_rows="dynamic",
                           hide_index=True, key=f"{SW_SPACE}_{kind}", column_config=columns,
                           column_order=list(columns), width="stretch", placeholder="—")
    space, problems = space_from(frame, kind, {p.name for p in schema if p.type.is_integral})
    if problems:
        st.error("\n".join(f"- {'Row ' + str(n + 1) + ': ' if n >= 0 else ''}{text.markdown(why)}"
                           for n, why in sorted(problems.items())), icon=":material/error:")
    return space, problems


def _spec_from_form(db: Database, configured: pd.DataFrame) -> tuple[SweepSpec | None, int, str]:
    """(the spec, jobs, "") or (None, 0, what is wrong) from the tab's inputs."""
    kinds = registry()
    kind = st.selectbox("Strategy kind", list(kinds), key=SW_KIND, format_func=lambda k: f"{kinds[k].title} ({k})")
    base, _ = _base(configured, kind)
    from_ms, to_ms_, markets, floor = _range_and_markets(db)
    space, space_problems = _space_editor(kind, floor)
    left, mid, right = st.columns(3)
    objective = left.selectbox("Objective", OBJECTIVES, key=SW_OBJECTIVE, help=OBJECTIVE_HELP)
    sampler = mid.selectbox("Sampler", ("tpe", "grid"), key=SW_SAMPLER, help="TPE (Optuna's default) or a grid "
                            "(5 values per numeric range)")
    trials = right.number_input("Trials", min_value=1, max_value=10_000, value=50, step=1, key=SW_TRIALS)
    left, mid, right = st.columns(3)
    budget = worker_budget()
    jobs = left.number_input("Workers", min_value=1, max_value=budget.most, value=budget.most, step=1, key=SW_JOBS,
                             help=f"Worker processes: at most {budget.most} on this machine ({budget.why()})")
    seed = mid.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key=SW_SEED,
                            help="Seeds the sampler and the paper venue: one worker and the same seed repeat a sweep")
    split = right.slider("Training share", min_value=0.5, max_value=1.0, value=0.7, step=0.05, key=SW_SPLIT,
                         help="The rest of the range is held out; the best trials are re-run on it. 1.0: no hold-out")
    name = st.text_input("Name (optional)", key=SW_NAME, placeholder="derived from the settings: the same "
                         "settings resume the same sweep")
    if from_ms is None or to_ms_ is None:
        return None, 0, "Range: pick both a start and an end (UTC)"
    if space_problems:
        return None, 0, "Search space: fix the rows marked under its table"
    try:
        spec = SweepSpec(name="-", kind=kind, space=parse_space(space, kind), from_ms=from_ms, to_ms=to_ms_,
                         base_params=base,
                         markets=tuple(sorted(markets)), trials=int(trials), objective=objective,  # type: ignore[arg-type]  # objective and sampler come from select boxes of the literals
                         sampler=sampler, seed=int(seed), train_fraction=None if split >= NO_SPLIT else float(split))  # type: ignore[arg-type]  # objective and sampler come from select boxes of the literals
        spec = replace(spec, name=name.strip() or default_name(spec))
        check_spec(spec)
    except SweepError as exc:
        return None, 0, str(exc).capitalize()
    counts = (backtest_queries.backtest_event_counts(db, "recorded", *spec.train_range, list(spec.markets))
              if spec.markets else None)
    if counts is not None and not all(counts.get(c) for c in spec.markets):
        return None, 0, f"Markets: some picked markets have no ticks between {utc(spec.train_range[0])} and " \
                        f"{utc(spec.train_range[1])}"
    if counts is None and backtest_queries.backtest_market_choices(db, "recorded", *spec.train_range, limit=1).empty:
        return None, 0, f"Range: no recorded ticks between {utc(spec.train_range[0])} and {utc(spec.train_range[1])}"
    return spec, int(jobs), ""


def latency_described(db: Database) -> str:
    try:
        return parse_latency(desk_latency(db)).describe()
    except LatencyError as exc:  # a stored value the engine also reports; the trials would refuse it
        return str(exc)


def new_sweep_panel(db: Database, root: Path, configured: pd.DataFrame) -> str | None:
    """The launch form; on a valid launch, the sweep's name (None otherwise)."""
    if read_only("launching a sweep"):
        return None
    spec, jobs, problem = _spec_from_form(db, configured)
    st.caption(f"Every trial runs with the desk's Paper order latency ({latency_described(db)}; the Settings "
               "page changes it).")
    if not st.button("Launch sweep", type="primary", key=SW_LAUNCH, icon=":material/tune:"):
        return None
    if spec is None:
        st.error(f"Nothing launched: {text.markdown(problem)}")
        return None
    return _launch(db, root, spec, jobs)


def _launch(db: Database, root: Path, spec: SweepSpec, jobs: int) -> str | None:
    try:
        launched = launch_sweep(db, spec, jobs, root=root, actor=actor())
    except OSError as exc:
        st.error(f"Could not start the sweep process: {text.markdown(exc)}")
        return None
    st.session_state[f"{SW_LAUNCHED}flash"] = (f"Sweep '{text.markdown(spec.name)}' launched with "
                                               f"{plural(jobs, 'worker')} (pid {launched.pid}); "
                                               f"its log: `{launched.log_path}`.")
    st.session_state.setdefault(SW_STARTING, {})[spec.name] = (launched.pid, str(launched.log_path))
    return spec.name


def sweep_tab(db: Database, root: Path, configured: pd.DataFrame) -> None:
    """`configured`: the strategies list (trading_queries.strategies), read once per page run."""
    url = sweeps_storage(root, db.path)
    studies = sweep_list(url)
    with st.expander("New sweep", expanded=studies.empty, icon=":material/add:"):
        launched = new_sweep_panel(db, root, configured)
    if launched is not None:
        st.session_state[SW_PICK_NEXT] = launched
        st.rerun()
    flash(near=SW_LAUNCHED)  # what Launch (or Resume) said, here in the Sweep tab where it was pressed
    starting = _still_starting(set(studies["name"]))
    if starting:
        _starting_panel(url, starting)
    if studies.empty:
        if not starting:
            st.info("No sweeps yet: launch one above, or run `python -m engine sweep` (docs/research.md: Sweeps).",
                    icon=":material/tune:")
        return
    if SW_PICK_NEXT in st.session_state:
        st.session_state[SW_PICK] = st.session_state.pop(SW_PICK_NEXT)
    names = list(studies["name"])
    if st.session_state.get(SW_PICK) not in names:
        st.session_state.pop(SW_PICK, None)
    # The labels hold no count: the browser keeps the label it showed while the sweep moves on
    # ("0/2 trials" above a finished sweep's "2/2 trials · finished"); its bar below has the count.
    by_name = studies.set_index("name")
    name = st.selectbox("Sweep", names, key=SW_PICK,
                        format_func=lambda n: f"{n} · {by_name.loc[n, 'trials']} trials asked")
    view = sweep_view(url, name)
    if view is None:
        st.warning(f"Sweep '{text.markdown(name)}' no longer exists.")
        return
    # While it runs, the whole view (bar, trials, charts) refreshes as one, so no part of it says
    # something another contradicts; once it ends, the view is drawn once more, final, and stays.
    running = sweep_alive(view.pid)
    live_fragment(run_every=REFRESH_S if running else None)(_sweep_view)(db, root, url, name, configured, running)


def _sweep_view(db: Database, root: Path, url: str, name: str, configured: pd.DataFrame, was_running: bool) -> None:
    view = sweep_view(url, name)
    if view is None:
        st.warning(f"Sweep '{text.markdown(name)}' no longer exists.")
        return
    if was_running and not sweep_alive(view.pid):
        st.rerun(scope="app")  # it ended: draw it final, without the refresh
    _status(db, root, url, view)
    _trials(url, view)
    _use_params(db, view, configured)


def _still_starting(known: set[str]) -> dict[str, tuple[int, str]]:
    """The sweeps this session launched that have no study yet (a sweep process takes a few
    seconds to create it: until then the list would say there are no sweeps at all)."""
    starting: dict[str, tuple[int, str]] = st.session_state.get(SW_STARTING, {})
    for name in [n for n in starting if n in known]:
        del starting[name]
    return dict(starting)


@live_fragment(run_every=REFRESH_S)
def _starting_panel(url: str, starting: dict[str, tuple[int, str]]) -> None:
    """Each launched sweep until its study appears (then the whole tab reruns to list it), or
    its process ends without one (then its log says why)."""
    if set(starting) & set(sweep_list(url)["name"]):
        st.rerun(scope="app")
    for name, (pid, log) in starting.items():
        if sweep_alive(pid):
            st.info(f"Sweep '{text.markdown(name)}' is starting (pid {pid}): it is listed here as soon as its "
                    "study exists. "
                    f"Its log: `{log}`.", icon=":material/hourglass_top:")
        else:
            st.error(f"Sweep '{text.markdown(name)}' ended before creating its study: its log says why, `{log}`.",
                     icon=":material/error:")


def _status(db: Database, root: Path, url: str, view: SweepView) -> None:
    spec = view.spec
    split = spec.get("train_fraction")
    held = f" · last {1 - split:.0%} held out" if split else " · no hold-out"
    count = len(spec.get("markets") or [])
    markets = f"{count} market{'s' if count != 1 else ''}" if count else "every market with ticks"
    # A study's spec may come from another machine's sweep (a shared PostgreSQL study): its words are outside text.
    st.caption(f"{text.markdown(spec.get('kind'))} · objective {text.markdown(spec.get('objective'))} (per day) · "
               f"{text.markdown(spec.get('sampler'))} · "
               f"{utc(spec.get('from_ms'))} → {utc(spec.get('to_ms'))}{held} · {markets} · "
               f"seed {text.markdown(spec.get('seed'))} · log `{sweep_log_path(root, view.name)}`")
    note = sweep_report.short_data_note(spec)
    if note:
        st.warning(note, icon=":material/timer:")
    _progress(view)
    if not sweep_alive(view.pid) and view.done < view.wanted:
        st.warning(f"Sweep '{text.markdown(view.name)}' is not running and has {view.done} of {view.wanted} "
                   "trials: resume it to "
                   "finish (trials already done are kept).", icon=":material/pause_circle:")
        if not read_only("resuming a sweep") and st.button("Resume sweep", key=SW_RESUME, icon=":material/play_arrow:"):
            _launch(db, root, SweepSpec.from_dict(spec), worker_budget().most)
            st.rerun()


def _progress(view: SweepView) -> None:
    """The bar of one sweep (refreshed with its trials while it runs)."""
    name = view.name
    running = sweep_alive(view.pid)
    state = "running" if running else ("finished" if view.done >= view.wanted else "stopped")
    best = f" · best {view.best['value']:.4g} (trial {view.best['number']})" if view.best else ""
    st.progress(min(1.0, view.done / max(1, view.wanted)),
                text=f"Sweep {name}: {view.done}/{view.wanted} trials · {state}{best}")


def _trials(url: str, view: SweepView) -> None:
    objective = view.spec.get("objective", "")
    sure = figures.best_pnl_line(view.best, view.done)
    if sure:
        st.caption(sure)  # the desk's own figures and words: nothing foreign to escape
    ends = best_trial_ends(view.best)
    if ends:  # positions valued at their last mid at the end, or markets that ended inside the period
        (st.warning if ends_before_resolution(view.best) else st.caption)(text.markdown(" ".join(ends)))
    st.dataframe(view.trials, hide_index=True, key="sw_trials_table", placeholder="—",
                 column_config={"value": st.column_config.NumberColumn("score (training)", format="%.4g"),
                                "test": st.column_config.NumberColumn("score (held out)", format="%.4g"),
                                **PNL_COLUMN_CONFIG, **{f"test_{k}": v for k, v in PNL_COLUMN_CONFIG.items()},
                                "why": "why undefined or skipped"})
    st.plotly_chart(figures.history_figure(view.trials, objective), key="sw_history", width="stretch",
        config=CHART_CONFIG)
    cols = st.columns(2)
    for i, param in enumerate(view.params):
        with cols[i % 2]:
            bounds = (view.spec.get("space") or {}).get(param)
            st.plotly_chart(figures.param_figure(view.trials, param, objective,
                                                 bounds if isinstance(bounds, list) else None), key=f"sw_param_{param}",
                            width="stretch", config=CHART_CONFIG)
    st.plotly_chart(figures.importance_figure(_importance(url, view.name, view.done)), key="sw_importance",
                    width="stretch", config=CHART_CONFIG)
    if view.out_of_sample:  # a walk-forward sweep's verdict: the held-out ranking, the overstatement, the DSR
        st.markdown("**Out of sample** · " + " ".join(figures.out_of_sample_lines(view.out_of_sample)))
    if not view.held_out.empty:
        st.markdown("**Held-out period** · the best trials re-run on data they were not chosen on: a score far "
                    "below its training score is overfitting")
        st.dataframe(view.held_out, hide_index=True, key="sw_held_out", placeholder="—",
                     column_config={f"test_{k}": v for k, v in PNL_COLUMN_CONFIG.items()})
    _downloads(url, view)


def _downloads(url: str, view: SweepView) -> None:
    """The sweep to keep: its report (one HTML file) and its trials (CSV). A sweep keeps scores,
    not fills or orders: a backtest of a trial's params has those."""
    stem = f"sweep-{re.sub(r'[^A-Za-z0-9_.-]+', '-', view.name).strip('-') or 'sweep'}"
    left, right = st.columns(2)
    left.download_button("Report (HTML)", key="sw_report_html", icon=":material/description:", width="stretch",
                         data=lambda: sweep_report.sweep_report(view, _importance(url, view.name, view.done)),
                         file_name=f"{stem}.html", mime="text/html",
                         help="Settings, trials, charts and held-out scores in one file that opens in any browser")
    right.download_button("Trials (CSV)", key="sw_trials_csv", icon=":material/download:", width="stretch",
                          data=lambda: sweep_report.trials_csv(view), file_name=f"{stem}-trials.csv", mime="text/csv")


@st.cache_data(ttl=60, show_spinner=False)
def _importance(url: str, name: str, done: int) -> dict[str, float]:
    return param_importance(url, name)  # `done` keys the cache: a new trial recomputes it


def _use_params(db: Database, view: SweepView, configured: pd.DataFrame) -> None:
    st.markdown("**Use these params**")
    if not view.complete_params:
        st.caption("No complete trial yet.")
        return
    kind = view.spec.get("kind", "")
    ranked = view.trials[view.trials["state"] == "COMPLETE"].sort_values(["value", "number"],
                                                                        ascending=[False, True])
    numbers = [int(n) for n in ranked["number"]]
    scores = dict(zip(numbers, ranked["value"], strict=True))
    trial = st.selectbox("Trial", numbers, key=SW_TRIAL, format_func=lambda n: f"trial {n} · score {scores[n]:.4g}")
    rows = trading_queries.strategy_rows(configured)
    targets = [n for n, row in rows.items() if row.kind == kind]
    if not targets:
        st.info(f"No configured {text.markdown(kind)} strategy to use them in: create one on the Strategies "
                "page first.")
        return
    target = st.selectbox("Into strategy", targets, key=SW_TARGET)
    row = rows[target]
    flash(near=SW_USE, holds=f"{target}:{row.version}")  # what Use did, while that strategy stays so
    searched = view.complete_params[trial]
    # The whole set the trial was backtested with, not only what was searched: a strategy whose
    # other params differ would otherwise run something no trial measured.
    whole = ran_with(kind, view.spec.get("base_params") or {}, searched)
    current = ran_with(kind, row.params, {})
    _, changes = merged_params(current, whole)
    if not changes:
        st.caption(f"Strategy '{text.markdown(target)}' already has every param this trial ran with.")
        return
    st.caption("Every parameter the trial's backtest ran with is written: the searched ones and the sweep's fixed "
               "ones (with the strategy kind's defaults for the rest). These change:")
    st.dataframe(pd.DataFrame([{"param": k, "now": str(a), "trial": str(b),
                                "searched": "yes" if k in searched else "no (the sweep's fixed value)"}
                               for k, (a, b) in changes.items()]), hide_index=True, key="sw_changes", placeholder="—")
    if read_only("changing a strategy's params"):
        return
    confirmed = st.checkbox(f"Change strategy '{text.markdown(target)}' (the engine reloads it; audited)",
                            key=SW_CONFIRM)
    if st.button("Use these params", key=SW_USE, disabled=not confirmed, icon=":material/done_all:"):
        try:
            saved = use_params(db, strategy=target, version=row.version, kind=kind, current=row.params,
                               markets=row.markets, trial=whole, actor=actor())
        except StaleVersion:
            st.error(f"Strategy '{text.markdown(target)}' changed meanwhile: nothing saved. Look again and retry.")
            return
        except ConfigError as exc:
            st.error(f"Nothing saved: {text.markdown(exc)}")
            return
        saved_then_reload(db, saved.reload_command_id,
                          flash=f"Strategy '{text.markdown(target)}' now has the params of trial {trial} "
                                f"(version {saved.version}): changed "
                                + ", ".join(f"{text.markdown(k)} {a} → {b}" for k, (a, b) in changes.items()) + ".",
                          label="The engine's reload of the configuration", near=SW_USE,
                          holds=f"{target}:{saved.version}")
