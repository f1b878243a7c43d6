"""The FastAPI application: `uvicorn api.main:app` (settings from HC_* environment variables)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.access_log import install_access_log_redaction
from api.arrivals import OnlineArrivals
from api.metrics import set_model_version
from api.observability import ObservabilityMiddleware
from api.routers import applicants, health, metrics, model, monitoring, scoring
from api.services import Services
from api.settings import ApiSettings

DESCRIPTION = """
Scores the probability that a Home Credit applicant defaults, decides grant / refuse under the
business cost, and explains the decision.

Every endpoint except `GET /health` and `GET /ready` needs an API key in the `X-API-Key` header
(401 without one, 403 with a wrong one). Invalid input gets 422 naming the field, an unknown
applicant 404, a body over the size limit 413.
"""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    services = Services.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_access_log_redaction()
        services.start()
        set_model_version(getattr(services.models.loaded, "version", None))  # /metrics: what this worker serves
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="Home Credit scoring API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    for router in (health.router, model.router, scoring.router, applicants.router, monitoring.router,
                   metrics.router):
        app.include_router(router)
    app.add_middleware(OnlineArrivals, services=services)  # new applications announced: the gather window
    # request id, JSON access log, request metrics (docs/deploy.md)
    app.add_middleware(ObservabilityMiddleware, services=services, access_log_on=settings.api_access_log)
    return app


logging.getLogger("api").setLevel(logging.INFO)
app = create_app()
