"""The FastAPI application: `uvicorn api.main:app` (settings from HC_* environment variables)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.access_log import install_access_log_redaction
from api.routers import applicants, health, model, monitoring, scoring
from api.services import Services
from api.settings import ApiSettings

DESCRIPTION = """
Scores the probability that a Home Credit applicant defaults, decides grant / refuse under the
business cost, and explains the decision.

Every endpoint except `GET /health` needs an API key in the `X-API-Key` header
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
    for router in (health.router, model.router, scoring.router, applicants.router, monitoring.router):
        app.include_router(router)
    return app


logging.getLogger("api").setLevel(logging.INFO)
app = create_app()
