# Interface contract: docs/interfaces.md (variables, targets, files), docs/architecture.md. Every target depends on `setup`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
UV          := $(VENV)/bin/uv
STAMP       := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark

export HC_RAW_DIR       ?= data/raw
export HC_WAREHOUSE     ?= data/warehouse.duckdb
export HC_ARTIFACTS     ?= artifacts
export HC_API_PORT      ?= 8000
export HC_DASHBOARD_PORT ?= 8501
export HC_MLFLOW_PORT   ?= 5000
export HC_API_URL       ?= http://127.0.0.1:$(HC_API_PORT)
export HC_ENGINE        ?= duckdb
export HC_SPARK_WAREHOUSE ?= data/spark-warehouse
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR  := $(CURDIR)

# The MLflow UI (full `mlflow`) lives in its own venv: installed next to our pins it would downgrade
# pyarrow and gunicorn. Training only needs mlflow-skinny (in requirements.lock).
MLFLOW_VENV  := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed

SCALE ?= 0.05
SEED  ?= 0
DEMO_SCALE ?= 0.03
# `make demo` trains with the demo profile (same steps, faster boosting, 150 s budget; docs/modeling.md)
DEMO_PROFILE ?= demo
# ENGINE=spark (or HC_ENGINE=spark): warehouse, train and submission run on Apache Spark (docs/scale-out.md)
ENGINE ?= $(HC_ENGINE)
ifeq ($(ENGINE),spark)
ENGINE_SETUP := setup-spark
else ifeq ($(ENGINE),duckdb)
ENGINE_SETUP :=
else
$(error ENGINE=$(ENGINE): expected duckdb or spark)
endif

.PHONY: help setup setup-spark test-deps data warehouse train submission feature-report drift api dashboard serve serve-prod demo test test-fast fuzz lint bench clean mlflow

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Where PYTHONDONTWRITEBYTECODE is set (the development machines here, many containers), every process compiles what
# it imports from source each time: ~4.5 CPU s per warehouse build (its process and dbt's). `make setup` compiles
# the packages those two import once (~2,300 files, ~6 CPU s; not the whole venv: ~60 CPU s). Elsewhere Python
# writes the same files at the first import anyway. A failure to compile one file only costs that file's speed.
BYTECODE_PKGS := dbt dbt_common dbt_semantic_interfaces networkx agate leather mashumaro jinja2 pandas numpy \
  pydantic pydantic_settings google snowplow_tracker sqlparse duckdb yaml parsedatetime dateutil attr attrs click \
  isodate importlib_metadata jsonschema referencing babel pathspec daff slugify pytimeparse msgpack more_itertools \
  dbtlabs requests urllib3 charset_normalizer

setup: $(STAMP)  ## create .venv with the locked dependencies and the project (idempotent)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@test -x $(UV) || $(VENV)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@echo "compiling the bytecode of the packages every warehouse build imports"; \
	site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	$(PY) -m compileall -q -j 0 -x '/tests?/' $$(for p in $(BYTECODE_PKGS); do test -e "$$site/$$p" && echo "$$site/$$p"; done) >/dev/null || true
	@touch $@

# The optional Spark stack (pyspark, dbt-spark[session]); re-installed when its lock or the base install
# changes (`make setup` syncs requirements.lock, which removes the extra). Spark needs a Java 17 runtime.
setup-spark: $(SPARK_STAMP)  ## add the Spark extra (pyspark, dbt-spark) to .venv; needs Java 17

# pyspark ships as a source archive only. uv rebuilt it into a new 1.4 GB cache entry at every install
# (~20 s each; dozens of installs filled the disk), so its wheel is built once into SPARK_WHEELS and reused.
SPARK_WHEELS ?= $(HOME)/.cache/home-credit/wheels
PYSPARK_PIN  := $(shell grep -m1 '^pyspark==' requirements-spark.lock)

$(SPARK_STAMP): requirements-spark.lock $(STAMP)
	@java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || { echo "setup-spark: Spark 4 needs Java 17 or newer and \`java -version\` gives none: install it (Debian: apt-get install openjdk-17-jre-headless) or put it on PATH / set JAVA_HOME"; exit 2; }
	@ls "$(SPARK_WHEELS)"/$(subst ==,-,$(PYSPARK_PIN))-*.whl >/dev/null 2>&1 || { \
	  mkdir -p "$(SPARK_WHEELS)" && tmp=$$(mktemp -d "$(SPARK_WHEELS)/.build-XXXXXX") && \
	  { $(UV) tool run --quiet --from pip pip wheel --quiet --no-deps --no-cache-dir "$(PYSPARK_PIN)" -w "$$tmp" && \
	    mv "$$tmp"/*.whl "$(SPARK_WHEELS)"/ || echo "setup-spark: could not build $(PYSPARK_PIN)'s wheel once into $(SPARK_WHEELS); uv builds it on this install"; }; \
	  rm -rf "$$tmp"; }
	$(UV) pip install --quiet --python $(PY) --find-links "$(SPARK_WHEELS)" -r requirements-spark.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

data: setup  ## synthetic Kaggle-format CSVs into HC_RAW_DIR (SCALE=0.05 SEED=0)
	$(PY) -m synthetic --scale $(SCALE) --seed $(SEED) --out "$(HC_RAW_DIR)"

warehouse: setup $(ENGINE_SETUP)  ## dbt build over HC_RAW_DIR into HC_WAREHOUSE (ENGINE=spark: HC_SPARK_WAREHOUSE)
ifeq ($(ENGINE),spark)
	$(PY) -m warehouse.spark_build
else
	$(PY) -m warehouse.build
endif

train: setup $(ENGINE_SETUP)  ## compare, select, calibrate, threshold, explain; write and promote a model version
ifeq ($(ENGINE),spark)
	$(PY) -m models_ml.spark.train
else
	$(PY) -m models_ml.train
endif

$(MLFLOW_STAMP): requirements-mlflow-ui.lock | $(STAMP)
	@test -x $(MLFLOW_VENV)/bin/python || $(UV) venv --quiet --python $(PY) $(MLFLOW_VENV)
	$(UV) pip sync --quiet --python $(MLFLOW_VENV)/bin/python requirements-mlflow-ui.lock
	@touch $@

# The default store is the file store $HC_ARTIFACTS/mlruns (MLflow 3.17 wants MLFLOW_ALLOW_FILE_STORE for it).
# The UI opens it through the link .venv-mlflow/store: MLflow's file store refuses run folders whose path has
# a folder named `artifacts` (the default HC_ARTIFACTS); training applies that guard below the store only.
mlflow: setup $(MLFLOW_STAMP)  ## the MLflow UI over the tracked runs, on loopback (HC_MLFLOW_PORT=5000)
	@uri="$${MLFLOW_TRACKING_URI:-$$($(PY) -c 'from models_ml.track import TrackingSettings as S; print(S().uri)')}"; \
	case "$$uri" in http://*|https://*|databricks*) \
	  echo "Runs are tracked on $$uri (MLFLOW_TRACKING_URI): open that server's UI."; exit 0;; esac; \
	echo "MLflow UI over $$uri: http://127.0.0.1:$(HC_MLFLOW_PORT)"; \
	case "$$uri" in file://*) store="$${uri#file://}"; mkdir -p "$$store"; \
	  ln -sfn "$$store" "$(CURDIR)/$(MLFLOW_VENV)/store"; uri="file://$(CURDIR)/$(MLFLOW_VENV)/store";; esac; \
	MLFLOW_ALLOW_FILE_STORE=true exec $(MLFLOW_VENV)/bin/mlflow ui --host 127.0.0.1 --port $(HC_MLFLOW_PORT) \
	  --workers 1 --backend-store-uri "$$uri"

submission: setup $(ENGINE_SETUP)  ## score application_test -> $(HC_ARTIFACTS)/submission.csv
ifeq ($(ENGINE),spark)
	$(PY) -m models_ml.spark.submission
else
	$(PY) -m models_ml.submission
endif

feature-report: setup  ## IV / missing / trend / stability per feature -> $(HC_ARTIFACTS)/reports/features/
	$(PY) -m models_ml.feature_report

drift: setup  ## Evidently drift report (HTML + JSON summary)
	$(PY) -m monitoring.drift

# `make api` / `make serve` are development runs: HC_API_ENV=dev allows the development request-log salt
# (production: set HC_API_LOG_SALT to a long random secret; the API refuses to start without it).
api: setup  ## run the scoring API on HC_API_PORT (development mode)
	HC_API_ENV="$${HC_API_ENV:-dev}" $(VENV)/bin/uvicorn api.main:app --host 127.0.0.1 --port $(HC_API_PORT)

dashboard: setup  ## run the Streamlit dashboard on HC_DASHBOARD_PORT
	$(VENV)/bin/streamlit run dashboard/app.py --server.port $(HC_DASHBOARD_PORT) --server.headless true

# Without HC_API_KEY the dashboard uses the first of HC_API_KEYS, or a one-off key both processes share.
serve: setup  ## run API and dashboard together
	@if [ -z "$$HC_API_KEY" ] && [ -n "$$HC_API_KEYS" ]; then \
	  HC_API_KEY="$$(printf '%s' "$${HC_API_KEYS%%,*}" | tr -d '[:space:]')"; fi; \
	if [ -z "$$HC_API_KEY" ]; then \
	  HC_API_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(24))')"; \
	  echo "API key for this session (X-API-Key): $$HC_API_KEY"; fi; \
	HC_API_KEYS="$${HC_API_KEYS:+$$HC_API_KEYS,}$$HC_API_KEY"; export HC_API_KEY HC_API_KEYS; \
	echo "dashboard: http://127.0.0.1:$(HC_DASHBOARD_PORT)   API docs: $(HC_API_URL)/docs"; \
	trap 'kill 0' EXIT INT TERM; \
	HC_API_ENV="$${HC_API_ENV:-dev}" $(VENV)/bin/uvicorn api.main:app --host 127.0.0.1 --port $(HC_API_PORT) & \
	$(VENV)/bin/streamlit run dashboard/app.py --server.port $(HC_DASHBOARD_PORT) --server.headless true & \
	wait

# Exactly what the image's `api` role runs (deploy/entrypoint.sh; docs/deploy.md): gunicorn with
# HC_API_WORKERS uvicorn workers on HC_API_HOST:HC_API_PORT (default 127.0.0.1), /ready, /metrics.
serve-prod: setup  ## production API: gunicorn + uvicorn workers (HC_API_WORKERS), /ready, /metrics
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec deploy/entrypoint.sh api

demo: setup  ## the main job on the embedded default: data, warehouse, train (demo profile), drift, summary
	@if [ ! -e "$(HC_RAW_DIR)/application_train.csv" ] || [ -e "$(HC_RAW_DIR)/.hc-synthetic" ]; then \
	  $(MAKE) --no-print-directory data SCALE=$(DEMO_SCALE) SEED=$(SEED); \
	else echo "Using the existing data in $(HC_RAW_DIR)"; fi
	$(MAKE) --no-print-directory warehouse
	HC_TRAIN_PROFILE="$${HC_TRAIN_PROFILE:-$(DEMO_PROFILE)}" $(MAKE) --no-print-directory train
	$(MAKE) --no-print-directory submission
	@echo "$(PY) -m monitoring.drift"; $(PY) -m monitoring.drift; rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "demo: no current batch to compare (empty test set, no request): no drift report this time"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi
	$(PY) -m models_ml.summary

# The Spark tests run too (marker `spark`; deselect locally with -m "not spark"); without Java they skip.
test: setup test-deps  ## the whole test suite (what .ci/run calls); prints the slowest tests
	@$(MAKE) --no-print-directory setup-spark || echo "make test: the Spark extra is not installed: the Spark tests will be skipped"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest --durations=25

FAST_TESTS := not trains and not browser and not slow and not spark and not real_data

test-fast: setup  ## the quick tier: no training, no browser, no Spark, no real-sample runs (< 2 min)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q -m "$(FAST_TESTS)"

# Headless Chromium + driver for the dashboard's real-browser test (Debian packages).
test-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing chromium and chromium-driver for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium is not installed and cannot be installed here: the browser test will be skipped"; fi

# The schemathesis fuzz of the whole OpenAPI surface with many examples (not in `make test`: minutes).
FUZZ_EXAMPLES ?= 500
fuzz: setup  ## fuzz the API's OpenAPI schema with FUZZ_EXAMPLES examples per operation
	HC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/api/test_api_fuzz.py -q

lint: setup
	$(VENV)/bin/ruff check .

bench: setup  ## the benchmarks, printing their figures
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:  ## remove generated data, artifacts and dbt output (keeps .venv)
	rm -rf data artifacts target logs dbt_packages
