# Interface contract: see README.md and DESIGN.md. Every target depends on `setup`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
UV          := $(VENV)/bin/uv
STAMP       := $(VENV)/.installed

export HC_RAW_DIR       ?= data/raw
export HC_WAREHOUSE     ?= data/warehouse.duckdb
export HC_ARTIFACTS     ?= artifacts
export HC_API_PORT      ?= 8000
export HC_DASHBOARD_PORT ?= 8501
export HC_API_URL       ?= http://127.0.0.1:$(HC_API_PORT)
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR  := $(CURDIR)

SCALE ?= 0.05
SEED  ?= 0
DEMO_SCALE ?= 0.03

.PHONY: help setup test-deps data warehouse train submission feature-report drift api dashboard serve demo test test-fast lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv with the locked dependencies and the project (idempotent)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@test -x $(UV) || $(VENV)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

data: setup  ## synthetic Kaggle-format CSVs into HC_RAW_DIR (SCALE=0.05 SEED=0)
	$(PY) -m warehouse.synthetic --scale $(SCALE) --seed $(SEED) --out "$(HC_RAW_DIR)"

warehouse: setup  ## dbt build over HC_RAW_DIR into HC_WAREHOUSE (atomic swap on success)
	$(PY) -m warehouse.build

train: setup  ## compare, select, calibrate, threshold, explain; write and promote a model version
	$(PY) -m models_ml.train

submission: setup  ## score application_test -> $(HC_ARTIFACTS)/submission.csv
	$(PY) -m models_ml.submission

feature-report: setup  ## IV / missing / trend / stability per feature -> $(HC_ARTIFACTS)/reports/features/
	$(PY) -m models_ml.feature_report

drift: setup  ## Evidently drift report (HTML + JSON summary)
	$(PY) -m monitoring.drift

api: setup  ## run the scoring API on HC_API_PORT
	$(VENV)/bin/uvicorn api.main:app --host 127.0.0.1 --port $(HC_API_PORT)

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
	$(VENV)/bin/uvicorn api.main:app --host 127.0.0.1 --port $(HC_API_PORT) & \
	$(VENV)/bin/streamlit run dashboard/app.py --server.port $(HC_DASHBOARD_PORT) --server.headless true & \
	wait

demo: setup  ## the main job on the embedded default: data, warehouse, train, drift, summary
	@if [ ! -e "$(HC_RAW_DIR)/application_train.csv" ] || [ -e "$(HC_RAW_DIR)/.hc-synthetic" ]; then \
	  $(MAKE) --no-print-directory data SCALE=$(DEMO_SCALE) SEED=$(SEED); \
	else echo "Using the existing data in $(HC_RAW_DIR)"; fi
	$(MAKE) --no-print-directory warehouse
	$(MAKE) --no-print-directory train
	$(MAKE) --no-print-directory submission
	@echo "$(PY) -m monitoring.drift"; $(PY) -m monitoring.drift; rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "demo: no current batch to compare (empty test set, no request): no drift report this time"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi
	$(PY) -m models_ml.summary

test: setup test-deps  ## the whole test suite (what .ci/run calls); prints the slowest tests
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

lint: setup
	$(VENV)/bin/ruff check .

bench: setup  ## the benchmarks, printing their figures
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:  ## remove generated data, artifacts and dbt output (keeps .venv)
	rm -rf data artifacts target logs dbt_packages
