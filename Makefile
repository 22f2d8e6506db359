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

# The main job against the embedded mock: 800 requests/s for 30 s (the open model) through a
# fault mix with retries; gates on nothing dropped, errors and the latency from the scheduled
# send; reconciled with the mock's journal; reports (HTML, CSV, JSON, JUnit) in build/demo.
demo: $(STAMP)
	$(BIN)/ctvsim load --rate 800 --duration 30s --seed 7 --retries 3 \
		--mock-fault 'status=500,probability=0.05' \
		--mock-fault 'status=429,probability=0.02,retry_after=0' \
		--mock-fault 'reset,probability=0.01' \
		--mock-fault 'latency=uniform:0:20,probability=0.2' \
		--threshold 'dropped<=0' --threshold 'error_rate<1%' \
		--threshold 'scheduled_p99<500ms' --report-dir build/demo

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
