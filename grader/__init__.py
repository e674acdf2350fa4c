"""grader: grades free-text answers to technical interview questions, and explains the grade."""

from grader.__version__ import __version__
from grader.adhoc import AdhocQuestion, derive_criteria
from grader.bank import QuestionBank, load_rubric
from grader.critic import Critic, Critique, CritiqueRequest, FallbackCritic, OfflineCritic
from grader.embedding import CachedEmbedder, Embedder, EmbeddingCache, SentenceTransformerEmbedder
from grader.errors import (
    ConfigurationError,
    CriticError,
    CriticUnavailableError,
    EmbeddingError,
    GraderError,
    InvalidAnswerError,
    InvalidQuestionError,
    LLMError,
    RubricError,
    UnknownQuestionError,
)
from grader.grading import GradeItem, Grader, PreparedAnswer
from grader.result import GradeResult
from grader.rubric import Criterion, Misconception, Rubric
from grader.settings import ScoringConfig, Settings, get_settings

__all__ = [
    "__version__",
    "AdhocQuestion",
    "CachedEmbedder",
    "ConfigurationError",
    "Criterion",
    "Critic",
    "CriticError",
    "CriticUnavailableError",
    "Critique",
    "CritiqueRequest",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingError",
    "FallbackCritic",
    "GradeItem",
    "GradeResult",
    "Grader",
    "GraderError",
    "InvalidAnswerError",
    "InvalidQuestionError",
    "LLMError",
    "Misconception",
    "OfflineCritic",
    "PreparedAnswer",
    "QuestionBank",
    "Rubric",
    "RubricError",
    "ScoringConfig",
    "SentenceTransformerEmbedder",
    "Settings",
    "UnknownQuestionError",
    "derive_criteria",
    "get_settings",
    "load_rubric",
]
