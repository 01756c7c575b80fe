# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run    — the app on its built-in patterns
#   make test   — the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
NPM    ?= $(shell command -v npm 2>/dev/null)
MERMAID_JS := tests/mermaid/node_modules/.package-lock.json

.PHONY: run test fuzz bench loadtest lint schema golden screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/python -m streamlit run app.py --server.port $(PORT)

# The real Mermaid (npm) for tests/test_mermaid_browser.py; skipped when node/npm is absent.
$(MERMAID_JS): tests/mermaid/package.json tests/mermaid/package-lock.json
	$(NPM) ci --prefix tests/mermaid --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

test: $(VENV)/.dev $(if $(NPM),$(MERMAID_JS))
	$(BIN)/python -m pytest

# Mutated pattern files against validation, the estimate and the exports (tests/test_fuzz.py);
# `make test` runs a small fixed set of the same examples.
FUZZ_EXAMPLES ?= 100000
fuzz: $(VENV)/.dev
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_fuzz.py -p no:cacheprovider -q

bench: $(VENV)/.dev
	$(BIN)/python -m tests.bench

# A class on one local server: LOAD_SESSIONS (50) sessions moving sliders for LOAD_SECONDS (60);
# LOAD_CLIENT=ws|browser, LOAD_REPLICAS (1). One server or browser at a time on the machine (the lock).
loadtest: $(VENV)/.dev
	flock /tmp/browser.lock $(BIN)/python -m tests.loadtest

# Every page at 1440×900 and 390×844 into screenshots/ (git-ignored), for review; lists the files written.
# Starts its own server and Chromium, so it waits for the machine's browser lock.
screenshots: $(VENV)/.dev
	flock /tmp/browser.lock $(BIN)/python -m tests.screenshots

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# Golden estimate outputs (tests/golden/estimates): regenerate only when a figure is meant to change.
golden: $(VENV)/.dev
	$(BIN)/python -m tests.golden_estimates

schema: $(VENV)/.runtime
	$(BIN)/python -m explorer schema > explorer/model/pattern.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
