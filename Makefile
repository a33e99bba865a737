# Two commands on a fresh clone:  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.shipyard-installed

export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: install demo test lint docs bench field-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,e2e]'
	$(BIN)/python scripts/fetch_sarif_schema.py
	touch $(STAMP)

install: $(STAMP) ## create .venv and install shipyard with its test tools

demo: install ## adopt the bundled example, then train, register, serve and predict
	$(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check generator tests benchmarks scripts

docs: install ## build the documentation site strictly
	$(BIN)/mkdocs build --strict --quiet --site-dir site

test: install lint docs ## lint, build the docs strictly, run the whole test suite
	$(BIN)/python -m pytest

bench: install ## side-by-side benchmarks (not part of the tests)
	$(BIN)/python benchmarks/run.py

field-test: install ## adopt and run every repo of CORPUS=DIR end to end (not part of the tests)
	@test -n "$(CORPUS)" || { echo "usage: make field-test CORPUS=DIR [FIELD_ARGS='--jobs 2 --markdown FILE ...']"; exit 2; }
	$(BIN)/python scripts/field_test.py $(CORPUS) $(FIELD_ARGS)

clean:
	rm -rf $(VENV) site demo .pytest_cache .bench
