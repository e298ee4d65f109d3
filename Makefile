# child-mdh: the two commands a newcomer needs.
#   make run    set up .venv (first time only) and run the whole workflow on synthetic data
#   make test   set up .venv (first time only) and run the test suite: the fast tier
#               (unit and statistical tests, under two minutes), then the slow tier
#               (the workflow end to end, larger simulations)
# Everything is installed from pinned versions (pyproject.toml + requirements.lock).

SHELL  := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= 2
CONFIG ?= config/config.yaml
SIMULATION_CONFIG ?= config/simulation.yaml
SIMULATION_TARGETS ?= all
# Results of another config go to their own folder, results-<config name>/, so a run never
# overwrites another config's results; RESULTS=folder chooses, RESULTS= (empty) keeps the
# config's own results_dir.
ifeq ($(CONFIG),config/config.yaml)
RESULTS ?=
else
RESULTS ?= results-$(basename $(notdir $(CONFIG)))
endif
# the Snakefile reads config/config.yaml itself: name only another config file; Snakemake
# prints one line of progress per step (the steps one line of what they did)
SMK_ARGS = $(if $(filter-out config/config.yaml,$(CONFIG)),--configfile $(CONFIG)) \
	$(if $(RESULTS),--config results_dir=$(RESULTS)) --quiet rules host reason

.PHONY: run test test-fast test-slow simulate bench report lint format lock clean-results help

help:
	@echo "make run    - run the whole workflow on the built-in synthetic data (results/)"
	@echo "make test   - run the tests: the fast tier, then the slow tier"
	@echo "make test-fast / make test-slow - one tier only"
	@echo "make format - format Python (ruff format) and the workflow (snakefmt)"
	@echo "make simulate - the simulation studies as jobs (workflow/simulation, results/simulation/)"
	@echo "make bench  - the workflow at 100k and 1M children: time and memory per rule"
	@echo "make report - write results/report.html (snakemake --report) after a run"
	@echo "make lint   - ruff, the formatters' checks and snakemake --lint"
	@echo "make lock   - re-pin requirements.lock from a fresh install"
	@echo "make clean-results - delete results, synthetic data and Snakemake's records"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "child-mdh needs Python 3.11, found " + sys.version.split()[0]' \
		|| { echo "Install Python 3.11 or set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
	touch $(STAMP)

# Snakemake's scheduling chatter is left out of the terminal (it stays in
# .snakemake/log/); errors, the steps' lines, progress and the closing summary remain
SMK_CHATTER = ^(Select jobs to execute|Execute [0-9]+ jobs|Finished jobid|Assuming unrestricted|Using shell|Rules claiming|Conda environments|Provided cores|Building DAG|\[[A-Z][a-z]{2} [A-Z][a-z]{2} .*[0-9]{4}\]$$)

# a run that was killed is resumed: stale lock removed, incomplete files made again
# (child-mdh run in child_mdh/cli.py; a second make run in the same folder is refused)
run: $(STAMP)
	@$(BIN)/child-mdh check-config --quiet $(CONFIG)
	@set -o pipefail; $(BIN)/child-mdh run -- --cores $(CORES) $(SMK_ARGS) 2>&1 \
		| grep --line-buffered -v -E '$(SMK_CHATTER)'

simulate: $(STAMP)
	$(BIN)/snakemake -s workflow/simulation/Snakefile --cores $(CORES) $(SIMULATION_TARGETS) --configfile $(SIMULATION_CONFIG)

# the whole workflow at 100,000 and 1,000,000 children (BENCH_ARGS=--with-8m adds 8 million):
# per-rule time and memory to benchmarks/results.json, compared with the previous figures
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_workflow.py $(BENCH_ARGS)

report: $(STAMP)
	$(BIN)/snakemake --cores 1 $(SMK_ARGS) --report $(or $(RESULTS),results)/report.html

# pytest exits 5 when a tier has no test left after PYTEST_ARGS' selection: not a failure.
# Each tier runs its test files on TEST_WORKERS processes (pytest-xdist; one file stays on
# one process, so a file's fixtures are built once); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: test-fast test-slow

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(XDIST) $(PYTEST_ARGS) || [ $$? -eq 5 ]

LINTED := src tests benchmarks workflow/scripts

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --configfile $(CONFIG)

format: $(STAMP)
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/snakefmt Snakefile workflow/rules

lock:
	rm -rf /tmp/child-mdh-lock && $(PYTHON) -m venv /tmp/child-mdh-lock
	/tmp/child-mdh-lock/bin/pip install --quiet ".[test]"
	{ head -2 requirements.lock; /tmp/child-mdh-lock/bin/pip freeze --exclude child-mdh; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# the synthetic data go too: without .snakemake's records a later run could not tell
# that they were made with other settings and would reuse them
clean-results:
	rm -rf results results-*/ .snakemake
	find synthetic_data -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
