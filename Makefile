# Two commands on a fresh clone:  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.shipyard-installed

export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: install demo test lint docs bench field-test clean container-test scale-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,e2e]'
	$(BIN)/python scripts/fetch_sarif_schema.py
	$(BIN)/python scripts/fetch_kustomize.py
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install --quiet 'checkov==3.3.30'
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

# Opt-in: build the generated Dockerfile with podman on a locally made base image and run it
# (tests/test_container.py). Debian/Ubuntu, as root (or with sudo for apt-get and debootstrap):
# installs podman, buildah, runc, debootstrap, uidmap, slirp4netns and fuse-overlayfs unless present, makes
# localhost/shipyard-python-base:$(CONTAINER_PYTHON) with scripts/container_base.sh, runs the test as
# mandatory (SHIPYARD_CONTAINER_TEST=1: a missing podman or base image fails instead of skipping).
CONTAINER_PYTHON   ?= 3.11
CONTAINER_PACKAGES := podman buildah runc debootstrap uidmap slirp4netns fuse-overlayfs ca-certificates
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

container-test: install ## build and run the generated Dockerfile with podman (opt-in; installs podman with apt-get)
	@command -v apt-get >/dev/null || { echo "container-test: needs apt-get (Debian/Ubuntu); install $(CONTAINER_PACKAGES) yourself, run scripts/container_base.sh, then SHIPYARD_CONTAINER_TEST=1 $(BIN)/python -m pytest tests/test_container.py"; exit 2; }
	@missing=$$(for p in $(CONTAINER_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "container-test: apt-get install $$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	sh scripts/container_base.sh $(CONTAINER_PYTHON)
	SHIPYARD_CONTAINER_TEST=1 SHIPYARD_CONTAINER_BASE=localhost/shipyard-python-base:$(CONTAINER_PYTHON) \
		$(BIN)/python -m pytest tests/test_container.py -v -rs

# Opt-in: the scale-out paths for real (tests/test_scale_registry.py, tests/test_scale_spark.py). Debian/Ubuntu,
# as root or with sudo: installs PostgreSQL and a Java runtime with apt-get unless present, pyspark into $(VENV),
# and the MLflow tracking server (full mlflow + psycopg2) into its own venv $(SERVER_VENV), as a team runs it
# apart from the project; then runs those tests as mandatory (SHIPYARD_SCALE_TEST=1: a missing part fails).
SERVER_VENV    := .venv-mlflow-server
SCALE_PACKAGES := postgresql openjdk-17-jre-headless
PYSPARK        ?= pyspark>=3.5,<5

scale-test: install ## shared MLflow server on PostgreSQL and Spark scoring, for real (opt-in; installs with apt-get)
	@command -v apt-get >/dev/null || { echo "scale-test: needs apt-get (Debian/Ubuntu); install $(SCALE_PACKAGES) yourself, then SHIPYARD_SCALE_TEST=1 $(BIN)/python -m pytest tests/test_scale_registry.py tests/test_scale_spark.py"; exit 2; }
	@missing=$$(for p in $(SCALE_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "scale-test: apt-get install $$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(BIN)/python -m pip install --quiet '$(PYSPARK)'
	@test -x $(SERVER_VENV)/bin/mlflow || { $(PYTHON) -m venv $(SERVER_VENV) && \
		$(SERVER_VENV)/bin/python -m pip install --quiet --upgrade pip && \
		$(SERVER_VENV)/bin/python -m pip install --quiet "mlflow==$$($(BIN)/python -c 'import mlflow; print(mlflow.__version__)')" psycopg2-binary; }
	SHIPYARD_SCALE_TEST=1 SHIPYARD_MLFLOW_SERVER=$(CURDIR)/$(SERVER_VENV)/bin/mlflow \
		$(BIN)/python -m pytest tests/test_scale_registry.py tests/test_scale_spark.py -v -rs

clean:
	rm -rf $(VENV) $(SERVER_VENV) site demo .pytest_cache .bench
