"""Settings that only the HTTP API needs, read from ``GRADER_*`` environment variables.

Grading settings (model, thresholds, answer length limit) stay in ``grader.settings.Settings``;
this class holds what a server adds on top: keys, CORS, request limits and the batcher.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ApiSettings(BaseSettings):
    """API settings. Every field can be set as ``GRADER_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="comma-separated bearer keys; when set, every /v1 route needs one",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated origins allowed to call the API"
    )
    batch_max_items: int = Field(default=100, ge=1, le=10_000,
                                 description="most items one POST /v1/grade/batch may carry")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024,
                                description="largest request body accepted, in bytes")
    batcher_max_batch_size: int = Field(default=64, ge=1, le=4096,
                                        description="most answers graded in one embedding call")
    batcher_max_wait_ms: float = Field(default=5.0, ge=0, le=1000,
                                       description="how long a batch waits for more requests")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process-wide API settings, read once. Tests pass their own to ``create_app``."""
    return ApiSettings()
