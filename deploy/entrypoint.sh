#!/bin/sh
# The one entry point of the image (and of `make serve-prod`): run one role of the platform.
#
#   deploy/entrypoint.sh api               gunicorn + uvicorn workers (api/gunicorn_conf.py)
#   deploy/entrypoint.sh dashboard         the Streamlit dashboard on HC_DASHBOARD_PORT
#   deploy/entrypoint.sh drift-scheduler   the weekly drift report (HC_DRIFT_SCHEDULE, e.g. "mon 06:00")
#   deploy/entrypoint.sh train             train, select and promote a new model version, then exit
#   deploy/entrypoint.sh warehouse         build the warehouse from HC_RAW_DIR (atomic swap), then exit
#   deploy/entrypoint.sh <command> ...     anything else is run as given (e.g. `python -m monitoring.drift`)
#
# Settings are HC_* environment variables (docs/deploy.md). Secrets come from files: HC_API_KEYS_FILE
# (sha256 digests of the API keys), HC_API_KEY_FILE (the dashboard's own key), HC_API_LOG_SALT_FILE.
# The python of the active environment is used (the image puts /opt/venv/bin first on PATH; the
# Makefile puts .venv/bin first).
set -eu

role="${1:-api}"
[ "$#" -gt 0 ] && shift

# a secret given as a file (compose / Kubernetes secrets): HC_X_FILE -> HC_X, never echoed
read_secret() {
    var="$1"
    eval "file=\${${var}_FILE:-}"
    if [ -n "$file" ]; then
        if [ ! -r "$file" ]; then
            echo "entrypoint: ${var}_FILE=$file is not a readable file" >&2
            exit 2
        fi
        value="$(tr -d '\r\n' < "$file")"
        export "$var=$value"
    fi
}

# the role, for deploy/healthcheck.py (a HEALTHCHECK runs outside this process tree)
echo "$role" > "${TMPDIR:-/tmp}/hc-role" 2>/dev/null || true

case "$role" in
    api)
        read_secret HC_API_LOG_SALT
        if [ -z "${HC_API_LOG_SALT:-}" ]; then
            echo "entrypoint: warning: HC_API_LOG_SALT (or HC_API_LOG_SALT_FILE) is not set: the API refuses" \
                 "to start in production (HC_API_ENV=dev allows the development salt)" >&2
        fi
        exec python -m gunicorn -c python:api.gunicorn_conf "$@" api.main:app
        ;;
    dashboard)
        read_secret HC_API_KEY
        exec python -m streamlit run dashboard/app.py \
            --server.port "${HC_DASHBOARD_PORT:-8501}" --server.address "${HC_DASHBOARD_HOST:-127.0.0.1}" \
            --server.headless true --browser.gatherUsageStats false "$@"
        ;;
    drift-scheduler)
        read_secret HC_API_LOG_SALT
        exec python -m monitoring.scheduler "$@"
        ;;
    train)
        exec python -m models_ml.train "$@"
        ;;
    warehouse)
        exec python -m warehouse.build "$@"
        ;;
    -h|--help|help)
        sed -n '2,13p' "$0"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
