# syntax=docker/dockerfile:1
# One image, several roles (deploy/entrypoint.sh): api (default), dashboard, drift-scheduler, train, warehouse.
#   docker build -t homecredit-scoring .
#   docker compose up -d                       # api + dashboard + drift scheduler (compose.yaml)
# docs/deploy.md explains every setting. The base is pinned by tag and digest; refresh both together
# (`docker buildx imagetools inspect python:<tag>` prints the digest).
ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

# --- builder: the locked dependencies and the project into /opt/venv ---------------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_NO_CACHE=1
# a compiler only here, in case a locked package has no wheel for the platform
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv && python -m pip install "uv==${UV_VERSION}"
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN uv pip sync --python /opt/venv/bin/python requirements.lock
COPY hc_contracts ./hc_contracts
COPY api ./api
COPY dashboard ./dashboard
COPY models_ml ./models_ml
COPY monitoring ./monitoring
COPY warehouse ./warehouse
RUN uv pip install --python /opt/venv/bin/python --no-deps -e .

# --- runtime: no compiler, no uv, a non-root user ------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 hc \
 && useradd --system --uid 10001 --gid hc --create-home --home-dir /home/hc --shell /usr/sbin/nologin hc
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# the source the editable install points at, and the dbt project the warehouse role builds
COPY dbt_project.yml profiles.yml pyproject.toml ./
COPY hc_contracts ./hc_contracts
COPY api ./api
COPY dashboard ./dashboard
COPY models_ml ./models_ml
COPY monitoring ./monitoring
COPY warehouse ./warehouse
COPY deploy ./deploy
# data/ and artifacts/ live on one volume shared by every role; dbt's target/ must be writable
RUN mkdir -p /srv/hc/data /srv/hc/artifacts /app/target \
 && chown -R hc:hc /srv/hc /app/target \
 && chmod 0755 /app/deploy/entrypoint.sh
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib NUMBA_CACHE_DIR=/tmp/numba \
    DBT_PROFILES_DIR=/app DBT_PROJECT_DIR=/app \
    HC_RAW_DIR=/srv/hc/data/raw HC_WAREHOUSE=/srv/hc/data/warehouse.duckdb HC_ARTIFACTS=/srv/hc/artifacts \
    HC_API_HOST=0.0.0.0 HC_API_PORT=8000 HC_DASHBOARD_HOST=0.0.0.0 HC_DASHBOARD_PORT=8501
VOLUME ["/srv/hc"]
USER hc
EXPOSE 8000 8501
# liveness of the role this container runs (api: /health, dashboard: Streamlit's health, scheduler: heartbeat)
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["python", "/app/deploy/healthcheck.py"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["api"]
