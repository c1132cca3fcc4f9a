# Two commands for a newcomer: `make run` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run prod test install install-dev install-node install-chromium install-nginx bench clean

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

# Static files, agent SDK included, are collected at build time: hashed names, gzip copies and
# staticfiles.json in STATIC_ROOT, the only place a running server serves them from. DEBUG=true
# only spares the build the production secrets; the output does not depend on it.
STATIC_ROOT ?= staticfiles
$(STATIC_ROOT)/staticfiles.json: $(VENV)/.runtime node_modules/.installed $(shell find static -type f)
	DEBUG=true STATIC_ROOT=$(STATIC_ROOT) $(BIN)/python manage.py collectstatic --no-input -v0

install: $(VENV)/.runtime node_modules/.installed $(STATIC_ROOT)/staticfiles.json
install-dev: $(VENV)/.dev node_modules/.installed install-chromium install-nginx $(STATIC_ROOT)/staticfiles.json

install-chromium:
	@bash scripts/ensure-chromium.sh

# The production layout's proxy (make prod, and its end-to-end test).
install-nginx:
	@bash scripts/ensure-nginx.sh

run: install
	@bash scripts/run.sh

prod: install
	@bash scripts/prod.sh

test: install-dev
	@bash scripts/test.sh

bench: install-dev
	@bash scripts/bench.sh

clean:
	rm -rf $(VENV) node_modules var staticfiles
