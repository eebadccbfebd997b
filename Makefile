# Two commands for a fresh clone:
#   make run    set up a virtual environment and start the local console (SQLite, no Slack needed)
#   make test   set up a virtual environment and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test serve clock bench bench-full clean

run: $(VENV)/.installed
	$(BIN)/qms-bot shell $(ARGS)

test: $(VENV)/.installed
	$(BIN)/pytest $(ARGS)

serve: $(VENV)/.installed
	$(BIN)/qms-bot serve

clock: $(VENV)/.installed
	$(BIN)/qms-bot clock

# The bench suite (bench/run.py): quick sizes in a few minutes; `make bench-full` for the issue's sizes.
bench: $(VENV)/.bench-installed
	$(BIN)/python bench/run.py --quick $(ARGS)

bench-full: $(VENV)/.bench-installed
	$(BIN)/python bench/run.py $(ARGS)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

# Reinstall whenever pyproject.toml changes; the dev extra is small, so one environment serves both.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
