# The front door: `make demo`, `make test`, `make bench`, `make lint`.
# Every target sets itself up: a virtualenv in .venv and a build of the extension.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: venv develop release demo test test-rust test-python bench lint clean

venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "maturin>=1.5,<2" pytest pytest-asyncio pytest-timeout hypothesis uvloop psycopg2-binary
	touch $@

develop: venv
	$(PY) -m maturin develop -q

release: venv
	$(PY) -m maturin develop -q --release

demo: develop
	$(PY) examples/run_all.py

test: test-rust test-python

test-rust:
	cargo test -q --workspace

test-python: develop
	$(PY) -m pytest -q

bench: release
	$(PY) bench/run.py $(BENCH_ARGS)

lint: venv
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	rm -rf $(VENV) target
