# Every target bootstraps .venv from pyproject.toml, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench bench-quick lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# A 30-second load test against the embedded mock: 50 devices at full speed, two gates,
# reconciliation with the mock's journal; reports (HTML, CSV, JSON, JUnit) in build/demo.
demo: $(STAMP)
	$(BIN)/ctvsim load --duration 30s --users 50 --speed max --seed 7 \
		--threshold 'error_rate<1%' --threshold 'p99<500ms' --report-dir build/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Every benchmark at tiny sizes (well under a minute): a smoke test that none has rotted.
bench-quick: $(STAMP)
	$(BIN)/python bench/run_all.py --quick

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
