"""Scores: known applicants by id, new applications with their history, batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BeforeValidator

from api.arrivals import ARRIVAL_KEY
from api.deps import KEY_REQUIRED, ModelDep, ServicesDep
from api.errors import unprocessable
from api.schemas.examples import NEW_APPLICATION_EXAMPLE
from api.schemas.raw import MAX_ID
from api.schemas.requests import BatchRequest, NewApplication
from api.schemas.responses import BatchScores, ErrorOut, Score

router = APIRouter(prefix="/v1", tags=["scoring"], dependencies=KEY_REQUIRED)

def _digits_only(value: Any) -> Any:
    """A path id is written in digits only: `100002.0`, `1e5`, `+100002` are not ids."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("expected the applicant id in digits only, e.g. 100002")
    return value


SkIdCurr = Annotated[int, Path(ge=0, le=MAX_ID, description="SK_ID_CURR of an applicant in the warehouse"),
                     BeforeValidator(_digits_only)]
NOT_FOUND = {404: {"model": ErrorOut, "description": "unknown applicant"}}


def not_found(sk_id_curr: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"applicant {sk_id_curr} not found in the warehouse")


@router.get("/applicants/{sk_id_curr}/score", response_model=Score, responses=NOT_FOUND,
            summary="Score a known applicant (features read from the warehouse)")
async def score_applicant(sk_id_curr: SkIdCurr, model: ModelDep, services: ServicesDep) -> Score:
    # the common case is a lookup in the bulk scores, answered on the event loop; scoring a row
    # (bulk scores not ready yet, or a large warehouse read per id) runs in the thread pool
    result = services.scoring.from_book(model, sk_id_curr, "applicant_score")
    if result is None:
        result = (await run_in_threadpool(services.scoring.known, model, [sk_id_curr], "applicant_score"))[0]
    return result


@router.post("/score", response_model=Score, summary="Score a new application posted with its credit history",
             description="Features are computed by the warehouse's own compiled SQL on the posted records "
                         "(concurrent applications are computed together).")
def score_new(
    application: Annotated[NewApplication, Body(openapi_examples={"typical": {  # type: ignore[valid-type]
        "summary": "an application with a short history", "value": NEW_APPLICATION_EXAMPLE}})],
    model: ModelDep,
    services: ServicesDep,
    request: Request,
) -> Score:
    arrival = getattr(request.state, ARRIVAL_KEY, None)  # announced by api.arrivals: the gather window
    built = services.online.build_rows([application], services.features.generation, arrival, scorer=model)
    return services.scoring.online(model, built, "score")[0]


@router.post("/score/batch", response_model=BatchScores,
             summary="Score many applicants at once (ids and/or new applications), one result per item",
             description="Every id and application gets an item with its `status`: `found` (a known id, "
                         "scored), `new` (a posted application, scored), `not_found` (an id the warehouse does "
                         "not hold) or `invalid` (an application that cannot be scored, e.g. one reusing an id "
                         "also asked by id in the same batch). Unknown ids do not fail the batch.")
def score_batch(batch: BatchRequest, model: ModelDep, services: ServicesDep) -> BatchScores:
    limit = services.settings.api_batch_max
    size = len(batch.sk_id_curr) + len(batch.applications)
    if size > limit:
        raise unprocessable(("body",), f"a batch holds at most {limit} applicants, got {size}")
    return services.batch(model, batch)
