"""Readiness of one worker: a model, the warehouse, the bulk scores of the known applicants and (boosted
models) their rows encoded for explanations.

`/health` says the process is alive (always 200); `/ready` answers 200 only when this worker can
answer every scoring route at full speed, else 503 with what is missing, so that an orchestrator sends
traffic to ready containers only. Inside one container gunicorn's workers share the listening socket and
the kernel hands connections to any of them: a worker whose bulk scores are still being computed scores
each request's row itself (slower, same answer); one without a model answers 503 with the reason.

Computing counts as missing only until the worker's first ready answer. After a model or warehouse swap the
worker recomputes both in the background and stays ready (the body says `computing`), answering from each
request's own row meanwhile: replicas pick up a promoted model together, and an orchestrator routing by
`/ready` must never find all of them unready at once (at full volume the recomputation takes ~25 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.features import WarehouseUnavailable
from api.model_store import ModelUnavailable
from api.schemas.responses import Readiness

if TYPE_CHECKING:
    from api.services import Services


def readiness(services: Services) -> Readiness:
    """Whether this worker can serve every route now, and what is missing."""
    missing: list[dict[str, str]] = []
    model = gen = None
    try:
        model = services.models.get()
    except ModelUnavailable as exc:
        missing.append({"component": "model", "reason": str(exc)})
    try:
        gen = services.features.current()
    except WarehouseUnavailable as exc:
        missing.append({"component": "warehouse", "reason": str(exc)})
    book = "unknown"
    if model is not None and gen is not None:
        if services.books.get(model, gen) is not None:  # starts the bulk scoring when needed
            book = "ready"
        elif services.books.failed(model, gen):
            book = "failed"
            missing.append(
                {
                    "component": "score_book",
                    "reason": "bulk scoring of the known applicants failed with this model and "
                    "warehouse (see the server log); each request scores its own row",
                }
            )
        else:
            book = "computing"
            if not services.was_ready:
                missing.append(
                    {
                        "component": "score_book",
                        "reason": "the bulk scores of the known applicants are being computed",
                    }
                )
    rows = "unknown"
    if model is not None and gen is not None:
        rows = services.explanations.rows_status(model, gen)  # starts the encoding when needed
        if rows == "computing" and not services.was_ready:
            missing.append({"component": "explanation_rows",
                            "reason": "the known applicants' rows are being encoded for explanations"})
        elif rows == "failed":
            missing.append({"component": "explanation_rows",
                            "reason": "encoding the known applicants' rows for explanations failed with this model "
                            "and warehouse (see the server log); each explanation converts its own rows"})
    if not missing:
        services.was_ready = True
    body: dict[str, Any] = {
        "ready": not missing,
        "model_version": getattr(model, "version", None),
        "warehouse_generation": getattr(gen, "number", None),
        "score_book": book,
        "explanation_rows": rows,
        "missing": missing,
    }
    refused = services.models.refused
    if refused:
        body["refused_model"] = refused
    return Readiness.model_validate(body)
