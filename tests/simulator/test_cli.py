"""``python -m simulator`` as supervisord runs it: startup line, /ok, SIGTERM."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulator.kalshi.twin import POLYMARKET_QUESTION
from simulator.kalshi.twin import SERIES as TWIN_SERIES
from simulator.kalshi.twin import TITLE as TWIN_TITLE

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    """A clean environment: no SIMULATOR_*/DATA_SOURCE, and no developer .env either."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMULATOR_") and k != "DATA_SOURCE"}
    env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
                "TRADER_ENV_FILE": "/nonexistent/.env", **extra})
    return env


def _read_port(proc: subprocess.Popen, timeout: float = 20) -> int:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.startswith("SIMULATOR_PORT="):
                return int(line.split("=", 1)[1])
            if not line and proc.poll() is not None:
                break
    raise AssertionError(f"no SIMULATOR_PORT line (exit code {proc.poll()})")


def test_subprocess_serves_and_exits_on_sigterm():
    with subprocess.Popen([sys.executable, "-m", "simulator", "--port", "0", "--no-agents"],
                          cwd=ROOT, env=_env(SIMULATOR_SEED="99"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        _serve_then_terminate(proc)


def _serve_then_terminate(proc: subprocess.Popen) -> None:
    try:
        port = _read_port(proc)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/ok", timeout=5).json() == "OK"
        state = httpx.get(base + "/_sim/state", timeout=5).json()
        assert state["seed"] == 99 and state["agents"] is False
        # As make run serves it: one Kalshi market asks a Polymarket market's question, to rehearse a pair.
        twin = httpx.get(base + "/trade-api/v2/markets", params={"series_ticker": TWIN_SERIES}, timeout=5).json()
        assert [m["title"] for m in twin["markets"]] == [TWIN_TITLE]
        questions = [m["question"] for m in httpx.get(base + "/_sim/markets", timeout=5).json()]
        assert POLYMARKET_QUESTION in questions
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        log = proc.stderr.read()
        assert f"CLOB_HOST=http://127.0.0.1:{port}" in log
        assert f"WS_HOST=ws://127.0.0.1:{port}/ws/" in log
        assert f"GAMMA_HOST=http://127.0.0.1:{port}/gamma" in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_exits_at_once_when_another_data_source_is_configured(tmp_path):
    done = subprocess.run([sys.executable, "-m", "simulator"], cwd=ROOT, env=_env(DATA_SOURCE="polymarket"),
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0
    assert "not needed" in done.stdout
    env_file = tmp_path / "test.env"
    env_file.write_text("DATA_SOURCE=polymarket\n")
    done = subprocess.run([sys.executable, "-m", "simulator"], cwd=ROOT, capture_output=True, text=True,
                          env=_env(TRADER_ENV_FILE=str(env_file)), timeout=20)
    assert done.returncode == 0 and "not needed" in done.stdout


def test_settings_from_the_env_file_under_the_real_environment(tmp_path):
    env_file = tmp_path / "test.env"
    env_file.write_text("SIMULATOR_SEED=77\nSIMULATOR_FAIL_RATE=0.25\nSIMULATOR_PORT=\n")
    with subprocess.Popen([sys.executable, "-m", "simulator", "--port", "0", "--no-agents"], cwd=ROOT,
                          env=_env(TRADER_ENV_FILE=str(env_file), SIMULATOR_FAIL_RATE="0.5"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            port = _read_port(proc)
            state = httpx.get(f"http://127.0.0.1:{port}/_sim/state", timeout=5).json()
            assert (state["seed"], state["fail_rate"]) == (77, 0.5)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0


def test_bad_setting_is_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "simulator", "--error-scope", "some"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 2 and "error_scope" in done.stderr


def test_a_bad_strictness_setting_is_a_usage_error_naming_it():
    for args, env, word in ((["--fee-rate", "2"], {}, "fee_rate"),
                            ([], {"SIMULATOR_MAINTENANCE_SCHEDULE": "daily"}, "maintenance_schedule"),
                            (["--sports-markets", "99"], {}, "sports_markets"),
                            ([], {"SIMULATOR_FEE_EXPONENT": "x"}, "SIMULATOR_FEE_EXPONENT"),
                            (["--resolution-delay", "-1"], {}, "resolution_delay_s"),
                            (["--rebate-period", "0"], {}, "rebate_period_s"),
                            ([], {"SIMULATOR_REBATE_MINIMUM": "0.0000001"}, "rebate_minimum")):
        done = subprocess.run([sys.executable, "-m", "simulator", "--port", "0", *args], cwd=ROOT, env=_env(**env),
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 2, (args, env, done.stderr)
        assert word in done.stderr and "Traceback" not in done.stderr


def test_thousands_of_markets_are_served_the_extra_ones_generated_and_quiet():
    from simulator.config import SimConfig
    from simulator.markets import servable_markets
    from simulator.server import Simulator

    real = servable_markets()
    markets = Simulator(SimConfig(markets=5_000, agents=False)).markets
    assert len(markets) == len({m.condition_id for m in markets}) == 5_000
    assert [m.quiet for m in markets] == [False] * real + [True] * (5_000 - real)
    generated = markets[real]
    assert generated.tags == ["simulated"] and generated.tick == 10_000 and generated.min_size == 5_000_000
    assert generated.reward is None and generated.last_trade_price is None  # no program, no history
    again = Simulator(SimConfig(markets=real + 1, agents=False)).markets[real]
    assert (again.condition_id, again.yes.token_id) == (generated.condition_id, generated.yes.token_id)


def test_more_markets_than_it_can_serve_is_refused_not_capped():
    from simulator.markets import MOST_MARKETS

    for args, env in ((["--markets", str(MOST_MARKETS + 1)], {}), ([], {"SIMULATOR_MARKETS": "30000"}),
                      (["--markets", "0"], {})):
        done = subprocess.run([sys.executable, "-m", "simulator", "--port", "0", *args], cwd=ROOT, env=_env(**env),
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 2, (args, env, done.stderr)
        assert "markets" in done.stderr and "Traceback" not in done.stderr
        if args != ["--markets", "0"]:
            assert f"serves at most {MOST_MARKETS:,}" in done.stderr
