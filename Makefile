# The front door: `make demo`, `make test`, `make bench`, `make lint`.
# Every target sets itself up: a virtualenv in .venv and a build of the extension.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: venv develop release demo test test-rust test-python bench bench-quick bench-build lint clean test-sa14 test-sqla-suite

venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "maturin>=1.5,<2" pytest pytest-asyncio pytest-timeout hypothesis uvloop psycopg2-binary \
		"sqlalchemy[asyncio]>=2,<3"
	touch $@

develop: venv
	$(PY) -m maturin develop -q

release: venv
	$(PY) -m maturin develop -q --release

demo: develop
	$(PY) examples/run_all.py

test: test-rust test-python test-sa14

test-rust: venv
	cargo test -q --workspace

test-python: develop
	$(PY) -m pytest -q

# SQLAlchemy's own dialect compliance suite on postgresql+ferropg (tests/sqla_suite/README.md)
test-sqla-suite: develop
	$(PY) tests/sqla_suite/run.py -q -rfE

# ferropg.sa supports SQLAlchemy 1.4 too: its tests run again in a second virtualenv
# holding 1.4 (.venv has 2.x), with the extension built into it from the same cargo cache.
SA14_VENV ?= .venv-sa14
SA14_PY   := $(SA14_VENV)/bin/python

$(SA14_VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(SA14_VENV)
	$(SA14_PY) -m pip install -q "maturin>=1.5,<2" pytest pytest-asyncio pytest-timeout "sqlalchemy>=1.4,<2"
	touch $@

test-sa14: $(SA14_VENV)/.stamp
	VIRTUAL_ENV=$(abspath $(SA14_VENV)) $(SA14_PY) -m maturin develop -q
	$(SA14_PY) -m pytest -q tests/sa

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
	rm -rf $(VENV) $(SA14_VENV) target
