# Two commands for a newcomer: `make run` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install install-dev install-node install-chromium bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# make run also starts the sandbox, so it installs the sandbox's packages too.
$(VENV)/.runtime: requirements.txt requirements-sandbox.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-sandbox.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-sandbox.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.runtime node_modules/.installed
install-dev: $(VENV)/.dev node_modules/.installed install-chromium

install-chromium:
	@bash scripts/ensure-chromium.sh

run: install
	@bash scripts/run.sh

test: install-dev
	@bash scripts/test.sh

bench: install-dev
	@bash scripts/bench.sh

clean:
	rm -rf $(VENV) node_modules var staticfiles
