# Compute Outlook: one setup, a pipeline run and the tests. Every target is idempotent: make only
# redoes a step whose inputs changed (the lock file, the Rust sources), so a second run is fast.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
DAGSTER_HOME ?= $(CURDIR)/.dagster
export DAGSTER_HOME
RUST_SRC := $(shell find rust_core/src rust_core/python rust_core/calibration -type f -not -path "*/__pycache__/*" 2>/dev/null) rust_core/Cargo.toml rust_core/Cargo.lock rust_core/pyproject.toml

.PHONY: setup run test test-fast lint fmt bench ui clean
PROJECT_PY := $(shell find assets forecasts pipelines rust_core/python -name "*.py" 2>/dev/null)

setup: $(VENV)/.python-deps $(VENV)/.rust-core $(VENV)/.bytecode $(DAGSTER_HOME)/dagster.yaml

$(VENV)/.python-deps: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9
	# Bytecode compiled at install, so no run pays for compiling the libraries (uv does not by
	# default, and nothing is written back where PYTHONDONTWRITEBYTECODE is set).
	$(UV) pip sync --quiet --compile-bytecode --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	rm -f $(VENV)/.rust-core
	touch $@

$(VENV)/.rust-core: $(VENV)/.python-deps $(RUST_SRC)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH \
	  $(VENV)/bin/maturin develop --release --uv --quiet -m rust_core/Cargo.toml
	touch $@

# The project's own modules compiled to bytecode too, as the libraries are: where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile them from source in every run
# (0.15 s of each command's start). Redone when a module changes; a stale file is only recompiled
# in memory, never used.
$(VENV)/.bytecode: $(PROJECT_PY) | $(VENV)/.python-deps
	$(PY) -m compileall -q assets forecasts pipelines rust_core/python > /dev/null
	touch $@

# The instance lives in a git-ignored folder; its dagster.yaml is the project's, linked in. The
# check then opens it once, creating its storage, so the first `make run` does not.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml | $(VENV)/.python-deps
	mkdir -p $(DAGSTER_HOME)
	ln -sf $(CURDIR)/dagster.yaml $@
	$(PY) -m pipelines.instance_check --open

run: setup
	$(PY) -m pipelines.cli run

# pytest-xdist workers: more than the two cores, since the server and pipeline tests spend much of
# their time waiting on processes they started. Tests that share a session or module fixture run on
# one worker (tests/conftest.py); `make test TEST_WORKERS=0` runs everything in one process.
TEST_WORKERS ?= 3
test: setup
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup
	cargo test --quiet --manifest-path rust_core/Cargo.toml

# The edit loop: every test not marked slow (no full pipeline run, no servers); `make test` runs all.
test-fast: setup
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m "not slow"

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	cargo fmt --manifest-path rust_core/Cargo.toml --check
	cargo clippy --quiet --manifest-path rust_core/Cargo.toml --all-targets -- -D warnings

fmt: setup
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .
	cargo fmt --manifest-path rust_core/Cargo.toml

bench: setup
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

ui: setup
	$(VENV)/bin/dagster dev -h 127.0.0.1 -p 3000

clean:
	rm -rf $(VENV) $(DAGSTER_HOME) warehouse rust_core/target
