# Two set-up commands: `make run` and `make test`. Both need only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?=
CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test demo dashboard-png bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m sync init --if-missing $(CONFIG_ARG)
	$(PY) -m sync run $(CONFIG_ARG)

# Lint (ruff) and types (mypy) first: a type error fails CI. Then the suite on both cores (pytest-xdist;
# worksteal so that the few long tests do not queue behind each other), the ten slowest listed at the end. One process: `$(PY) -m pytest -q -x tests/test_X.py`.
PYTEST_WORKERS ?= 2
test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal --durations=10

demo: $(VENV)/.installed
	$(PY) -m sync.demo --out data/demo.xlsx
	@echo "Mở data/demo.xlsx, tab 'Tổng hợp' (số liệu tính đến 20/09/2024)."

# docs/dashboard.png: the demo's Tổng hợp tab as LibreOffice Calc draws it (needs soffice and pdftoppm)
dashboard-png: $(VENV)/.installed
	$(PY) -m sync.dashboard_png --out docs/dashboard.png

bench: $(VENV)/.dev-installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
