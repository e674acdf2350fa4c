"""Health, readiness and metrics: open even when API keys are required."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from api.deps import BatcherDep, GraderDep, MetricsDep
from api.errors import ErrorResponse
from api.schemas import Health, Readiness
from grader import __version__

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, operation_id="healthz")
async def healthz() -> Health:
    """The process is alive and answering."""
    return Health()


@router.get("/readyz", response_model=Readiness, operation_id="readyz",
            responses={503: {"model": ErrorResponse, "description": "still loading"}})
async def readyz(grader: GraderDep, batcher: BatcherDep) -> Readiness:
    """The model and the question bank are loaded: the server can grade."""
    return Readiness(questions=len(grader.bank), embedding_model=grader.embedder.model_name,
                     grader_version=__version__)


@router.get("/metrics", response_class=PlainTextResponse, operation_id="metrics",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format 0.0.4"}})
async def metrics(metrics: MetricsDep) -> PlainTextResponse:
    """Prometheus metrics: requests, latencies, grades by verdict and critic, errors, fallbacks."""
    return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")


# HEAD as well as GET, for probes and `curl -I`: the same answer without its body. Left out of
# the schema, where it would repeat the GET operation.
router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/readyz", readyz, methods=["HEAD"], include_in_schema=False)
