# The two commands: `make run` (product + demo organization) and `make test` (every suite).
VENV      := .venv
PY        := $(VENV)/bin/python
PYTHON311 := $(shell command -v python3.11 || command -v python3)
STAMP     := $(VENV)/.installed

.PHONY: run test install migrate demo bench lint fmt clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON311) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade pip uv
	@$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	@mkdir -p var
	@$(VENV)/bin/softdukan migrate

demo: migrate
	@$(VENV)/bin/softdukan demo

## Set up, migrate SQLite under ./var, seed the demo organization once, serve on http://127.0.0.1:8000
run: demo
	@$(VENV)/bin/softdukan serve --host 127.0.0.1 --port 8000

## Set up and run every suite: lint, SQLite (with Redis/Dramatiq and headless Chromium), then PostgreSQL
test: install
	@scripts/test.sh

bench: install
	@$(PY) -m bench.run

lint: install
	@$(VENV)/bin/ruff check .

fmt: install
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format softdukan tests bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
