# The two commands of the README:  make run  |  make test
# Both bootstrap what they need: .venv with the pinned requirements, var/, .env, the database.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP_TIME := ~4-5 minutes on a loaded 2-core machine, ~1-2 on an idle one

.PHONY: run service test test-fast test-process mutation setup bench clean-var

# supervisord runs under tools/run_desk.py: Ctrl-C or a closed terminal (SIGHUP) stops everything it
# started, never reloads it. CONF: another supervisord configuration (tests relocate it).
CONF ?= supervisord.conf

run: setup
	@$(PYTHON) -m tools.first_run step "preparing .env, var/ and the database (engine init)" "a few seconds"
	@$(BIN)/python -m engine init
	@$(BIN)/python -m tools.optional_programs
	@$(PYTHON) -m tools.first_run step "starting the simulator, the engine and the dashboard" \
		"the dashboard answers within about a minute; the demo strategy trades on paper soon after you log in"
	@$(BIN)/python -m tools.run_banner
	$(BIN)/python -m tools.run_desk $(CONF)

# The desk as a service of your user account (systemd): starts at boot, restarts after a crash.
service: setup
	$(BIN)/python -m engine init
	$(BIN)/python -m tools.service install

# Four workers, on two cores too: most of a test's time is spent waiting on the engines,
# simulators and browsers it starts (at two workers the suite kept one core busy of two), so
# four finish it ~40 % sooner (docs/development.md has the figures); more would crowd a small
# machine. `.venv/bin/python -m pytest tests/...` runs a part of it in one process.
PARALLEL = -n 4 --dist worksteal

# Every Python process the suite starts (its workers, hundreds of engines, the CLI, simulators, the
# dashboard) reuses the compiled bytecode of the desk's modules instead of compiling them again,
# even where the environment sets PYTHONDONTWRITEBYTECODE (container images often do): an engine
# boot compiled ~0.35 s of CPU of its source, and pytest rewrote every test module in every worker.
PYTEST = env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest

# Both tiers in one run (one collection, every core busy to the end): the fast tier starts no
# process (tests/conftest.py fails a test of it that does) and takes a few minutes alone; the
# process tier (marked `slow`) runs engines, simulators, supervisord, the dashboard and a browser.
test: setup
	$(PYTEST) $(PARALLEL)

test-fast: setup
	$(PYTEST) $(PARALLEL) -m "not slow"

test-process: setup
	$(PYTEST) $(PARALLEL) -m slow

# Mutation testing of the code that protects money ([tool.mutmut] in pyproject.toml says which);
# its kill rate is in docs/development.md. From scratch (mutmut keeps old verdicts in mutants/ even when
# the tests change), niced so a shared machine stays usable; ends with the kill rate per file.
mutation: setup
	rm -rf mutants
	nice -n 19 $(BIN)/mutmut run --max-children $$(nproc)
	$(BIN)/python -m tools.mutation_summary

# bench/_*.py are helpers the benchmarks share, not benchmarks.
bench: setup
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The pinned packages in .venv, once (again when requirements.txt changes): each step said with how
# long it takes, pip's progress a line (its own output in var/log/setup.log, shown if it fails).
setup: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || { $(PYTHON) -m tools.first_run step "creating the virtualenv .venv" "seconds" \
		&& $(PYTHON) -m venv $(VENV); }
	@$(PYTHON) -m tools.first_run step "installing the pinned Python packages into .venv" "$(PIP_TIME), once"
	@$(PYTHON) -m tools.first_run install $(BIN)/python requirements.txt
	@touch $(STAMP)

clean-var:
	rm -rf var/
