"""Dependencies the routes ask for: the grader, the batcher, settings, metrics, the API key."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.batcher import GradeBatcher
from api.errors import ApiError
from api.metrics import Metrics
from api.settings import ApiSettings
from grader.grading import Grader


async def get_grader(request: Request) -> Grader:
    grader: Grader | None = getattr(request.app.state, "grader", None)
    if grader is None:
        raise ApiError(503, "not_ready", "The grader is still loading; retry shortly.")
    return grader


async def get_batcher(request: Request) -> GradeBatcher:
    batcher: GradeBatcher | None = getattr(request.app.state, "batcher", None)
    if batcher is None or not batcher.running:
        raise ApiError(503, "not_ready", "The grader is not running; retry shortly.")
    return batcher


async def current_api_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.api_settings
    return settings


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def require_json(request: Request) -> None:
    """Refuse a body sent as anything but JSON with 415, before it is parsed.

    FastAPI reads a body as JSON only when its ``Content-Type`` says so; a form, text, or no
    type at all (``curl -d`` sends a form) would otherwise fail the schema with a puzzling 422.
    """
    given = request.headers.get("content-type", "")
    media_type = given.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/")
                                            and media_type.endswith("+json")):
        return
    raise ApiError(415, "unsupported_media_type",
                   f"The request body must be JSON, sent with 'Content-Type: application/json' "
                   f"(this one was sent as {given[:100] or 'no Content-Type'!r}). With curl, add "
                   "-H 'Content-Type: application/json', or use --json.",
                   {"content_type": given[:100], "expected": "application/json"})


GraderDep = Annotated[Grader, Depends(get_grader)]
BatcherDep = Annotated[GradeBatcher, Depends(get_batcher)]
ApiSettingsDep = Annotated[ApiSettings, Depends(current_api_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]

_bearer = HTTPBearer(auto_error=False, description="one of the keys in GRADER_API_KEYS")


async def require_api_key(
    settings: ApiSettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the request through only with ``Authorization: Bearer <one of GRADER_API_KEYS>``."""
    given = credentials.credentials.encode() if credentials is not None else b""
    # Compare against every key, always, so timing says nothing about which key nearly matched.
    matched = False
    for key in settings.api_keys:
        matched |= hmac.compare_digest(given, key.get_secret_value().encode())
    if credentials is None or not matched:
        raise ApiError(401, "unauthorized",
                       "This API needs a key: send 'Authorization: Bearer <key>' with one of the "
                       "keys configured in GRADER_API_KEYS.",
                       headers={"WWW-Authenticate": "Bearer"})
