# The front door: `make demo`, `make test`, `make bench`, `make lint`.
# Every target sets itself up: a virtualenv in .venv and a build of the extension.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: venv develop release demo test test-rust test-python bench bench-quick bench-build lint clean

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

# The benchmark has its own virtualenv (the peers at pinned versions) and its own
# release wheel of ferropg, so it never touches the .venv the tests use.
BENCH_VENV ?= bench/.venv
BENCH_PY   := $(BENCH_VENV)/bin/python

$(BENCH_VENV)/.stamp: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q -r bench/requirements.txt
	touch $@

bench-build: $(BENCH_VENV)/.stamp
	rm -rf $(BENCH_VENV)/wheels
	VIRTUAL_ENV=$(abspath $(BENCH_VENV)) $(BENCH_VENV)/bin/maturin build -q --release \
		-i $(BENCH_PY) -o $(BENCH_VENV)/wheels
	$(BENCH_PY) -m pip install -q --force-reinstall --no-deps $(BENCH_VENV)/wheels/ferropg-*.whl

bench: bench-build
	$(BENCH_PY) bench/run.py $(BENCH_ARGS)

bench-quick: bench-build
	$(BENCH_PY) bench/run.py --quick $(BENCH_ARGS)

lint: venv
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	rm -rf $(VENV) target
