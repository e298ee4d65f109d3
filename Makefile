# child-mdh: the two commands a newcomer needs.
#   make run    set up .venv (first time only) and run the whole workflow on synthetic data
#   make test   set up .venv (first time only) and run the test suite
# Everything is installed from pinned versions (pyproject.toml + requirements.lock).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= 2
CONFIG ?= config/config.yaml

.PHONY: run test report lint lock clean-results help

help:
	@echo "make run    - run the whole workflow on the built-in synthetic data (results/)"
	@echo "make test   - run the tests"
	@echo "make report - write results/report.html (snakemake --report) after a run"
	@echo "make lint   - snakemake --lint"
	@echo "make lock   - re-pin requirements.lock from a fresh install"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "child-mdh needs Python 3.11, found " + sys.version.split()[0]' \
		|| { echo "Install Python 3.11 or set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG)

report: $(STAMP)
	$(BIN)/snakemake --cores 1 --configfile $(CONFIG) --report results/report.html

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/snakemake --lint --configfile $(CONFIG)

lock:
	rm -rf /tmp/child-mdh-lock && $(PYTHON) -m venv /tmp/child-mdh-lock
	/tmp/child-mdh-lock/bin/pip install --quiet ".[test]"
	{ head -2 requirements.lock; /tmp/child-mdh-lock/bin/pip freeze --exclude child-mdh; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-results:
	rm -rf results .snakemake
