"""Settings that only the HTTP API needs, read from ``GRADER_*`` environment variables.

Grading settings (model, thresholds, answer length limit) stay in ``grader.settings.Settings``;
this class holds what a server adds on top: keys, CORS, request limits, read deadlines, the
batcher and the LLM critiques' pool.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from grader.errors import ConfigurationError

#: The most items any batch may carry, whatever GRADER_BATCH_MAX_ITEMS says.
MAX_BATCH_ITEMS = 10_000


class ApiSettings(BaseSettings):
    """API settings. Every field can be set as ``GRADER_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    # Where ``grader serve`` listens; its --host and --port win. Hosting platforms pass the port
    # as PORT. HOST is not read: tcsh exports it as the machine's name, which would put the
    # server on the network without a word.
    host: str = Field(default="127.0.0.1", min_length=1,
                      description="interface to bind; 0.0.0.0 for every interface")
    port: int = Field(default=8000, ge=1, le=65535,
                      description="TCP port; PORT, as hosting platforms set it, when this is unset")

    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="comma-separated bearer keys; when set, every /v1 route needs one",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated origins allowed to call the API"
    )
    batch_max_items: int = Field(default=100, ge=1, le=MAX_BATCH_ITEMS,
                                 description="most items one POST /v1/grade/batch may carry")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024,
                                description="largest request body accepted, in bytes")
    batcher_max_batch_size: int = Field(default=64, ge=1, le=4096,
                                        description="most answers graded in one embedding call")
    batcher_max_wait_ms: float = Field(default=5.0, ge=0, le=1000,
                                       description="how long a batch waits for more requests")
    llm_concurrency: int = Field(default=8, ge=1, le=256,
                                 description="LLM critiques run at once (a thread each)")
    llm_deadline_s: float = Field(
        default=60.0, gt=0, le=3600,
        description="longest an LLM critique may take, queue included, before the grade falls "
        "back to the offline critic")
    header_timeout_s: float = Field(
        default=10.0, gt=0, le=600,
        description="deadline for a request's line and headers, from its first byte (or from "
        "the connection's opening)")
    body_timeout_s: float = Field(default=30.0, gt=0, le=3600,
                                  description="deadline for reading a whole request body")
    keep_alive_timeout_s: int = Field(default=5, ge=1, le=600,
                                      description="how long an idle connection stays open")
    limit_concurrency: int = Field(
        default=256, ge=1, le=100_000,
        description="connections and requests at once (per worker) before new requests get 503")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _PlatformPort(settings_cls), dotenv_settings,
                file_secret_settings)

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _some_key_when_set(cls, value: object) -> object:
        # A variable that is set but holds no key ("", ",") would silently turn authentication
        # off: say so instead. Unset, it is the default (no keys) and never a string.
        if isinstance(value, str) and not value.replace(",", "").strip():
            raise ValueError("it is set but holds no key (only commas or spaces); give at least "
                             "one key, or unset it to run without authentication")
        return value

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    def uvicorn_options(self) -> dict[str, Any]:
        """The uvicorn settings these limits need: ``uvicorn.run(..., **options)``."""
        from api.protocol import DeadlineH11Protocol  # imports uvicorn: only when serving

        return {"http": DeadlineH11Protocol, "limit_concurrency": self.limit_concurrency,
                "timeout_keep_alive": self.keep_alive_timeout_s}


class _PlatformPort(PydanticBaseSettingsSource):
    """``PORT``, the variable hosting platforms set, as the port when GRADER_PORT is unset."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        value = os.environ.get("PORT")
        if value is None:
            return {}
        if not value.strip().isdigit() or not 1 <= int(value) <= 65_535:
            raise ConfigurationError(f"PORT={value[:20]!r} is not a TCP port; set it to a number "
                                     "from 1 to 65535, or unset it (the default is 8000).")
        return {"port": int(value)}


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process-wide API settings, read once. Tests pass their own to ``create_app``."""
    return ApiSettings()
