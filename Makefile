# Two set-up commands: `make run` and `make test`. Both need only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?=
CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test test-scale test-all demo dashboard-png bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The job's own bytecode is written here, on a `make run` after each upgrade, not by the first cron pass: Python writes
# a .pyc with one unchecked write, and a pass on a nearly full disk could leave a cut one that breaks every import.
run: $(VENV)/.installed
	$(PY) -m compileall -q sync
	$(PY) -m sync init --if-missing $(CONFIG_ARG)
	$(PY) -m sync run $(CONFIG_ARG)

# Lint (ruff) and types (mypy) first: a type error fails CI. Then the suite on both cores (pytest-xdist;
# worksteal, the long tests started first), the ten slowest listed at the end; Hypothesis property tests run a
# quarter of their examples (profile `fast`). One process: `$(PY) -m pytest -q -x tests/test_X.py`. The scale
# tier (a simulated year on each backend, the race at 10,000 rows, the report's totals at 400 rows, Google's
# requests at 1,500 rows, and every property test again with its full number of examples) is
# `make test-scale`; CI runs both, as does `make test-all`. pytest keeps its assertion-rewritten test modules
# in __pycache__ (ignored by git) even where PYTHONDONTWRITEBYTECODE is set: rewriting them again costs each
# process seconds of CPU.
PYTEST_WORKERS ?= 2
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal
test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m mypy
	HYPOTHESIS_PROFILE=fast $(PYTEST) -m "not scale" --durations=10

test-scale: $(VENV)/.dev-installed
	HYPOTHESIS_PROFILE=full $(PYTEST) -m "scale or property" --durations=3

test-all: test test-scale

# The demo (config/demo.yaml): data/demo/ built afresh, its state, reports and outbox gone with it, so `make demo`
# is also how to start the demo over. The README's tour runs on it.
DEMO_DIR := data/demo
demo: $(VENV)/.installed
	rm -rf $(DEMO_DIR)
	$(PY) -m sync.entry.demo --out $(DEMO_DIR)/theo-doi-cchc-2024.xlsx
	@echo "Mở $(DEMO_DIR)/theo-doi-cchc-2024.xlsx, tab 'Tổng hợp' (số liệu tính đến 20/09/2024). Các lệnh trên bản demo: python -m sync … --config config/demo.yaml."

# docs/dashboard.png: the demo's Tổng hợp tab as LibreOffice Calc draws it (needs soffice and pdftoppm)
dashboard-png: $(VENV)/.installed
	$(PY) -m sync.entry.demo --png docs/dashboard.png

bench: $(VENV)/.dev-installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
