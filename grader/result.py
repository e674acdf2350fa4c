"""``GradeResult``: the one shape every interface (library, CLI, API, batch) returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CriterionStatus = Literal["met", "partial", "missed", "contradicted"]
Verdict = Literal["pass", "borderline", "fail"]
CriticKind = Literal["offline", "llm"]
CriticChoice = Literal["auto", "offline", "llm"]
QuestionSource = Literal["bank", "adhoc"]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class CriterionResult(_Result):
    id: str
    description: str
    weight: float
    status: CriterionStatus
    evidence: str | None = Field(description="the answer sentence that shows the point, if any")
    similarity: float = Field(description="best embedding similarity of an answer sentence, -1..1")
    strength: float = Field(
        description="similarity above what the question alone scores; about 0 for a restatement"
    )
    reason: str | None = Field(default=None, description="the critic's one-line reason")


class MisconceptionResult(_Result):
    id: str
    claim: str
    why_wrong: str
    evidence: str = Field(description="the answer sentence that makes the claim")
    similarity: float


class Feedback(_Result):
    summary: str
    strengths: list[str] = Field(default_factory=list, description="what the answer got right")
    missing: list[str] = Field(default_factory=list, description="hints for key points not made")
    corrections: list[str] = Field(default_factory=list, description="wrong claims and why")


class TokenUsage(_Result):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CriticInfo(_Result):
    kind: CriticKind
    model: str | None = None
    fallback_reason: str | None = Field(
        default=None, description="why the LLM critic was not used, when it was asked for"
    )
    cached: bool = False
    usage: TokenUsage | None = None


class Signals(_Result):
    """The embedding signals behind the score, for transparency and calibration."""

    reference_similarity: float = Field(description="answer vs best reference answer")
    reference_strength: float = Field(
        description="how much of a reference answer the answer says, 0..1 (best sentence or "
        "clause, question-demoted and word-alignment matches averaged)"
    )
    coverage: float = Field(description="weighted share of criteria met (partial counts half)")
    question_similarity: float = Field(description="answer vs the question itself")
    question_overlap: float = Field(description="share of the answer's words found in the question")
    answer_words: int
    raw_score: float = Field(default=0.0, description="the score before calibration, 0-100")


class Versions(_Result):
    grader: str
    rubric_hash: str
    embedding_model: str
    calibration: str | None = Field(
        default=None, description="the score calibration applied (None: the raw score)")
    judge: str | None = Field(
        default=None, description="the offline critic's criterion judge, when it judged")


class GradeResult(_Result):
    question_id: str
    source: QuestionSource = Field(
        description="'bank': the bank's question with this id; 'adhoc': a question given inline "
        "(an ad-hoc question can never take a bank question's id)"
    )
    score: float = Field(ge=0, le=100)
    verdict: Verdict
    criteria: list[CriterionResult]
    misconceptions: list[MisconceptionResult]
    feedback: Feedback
    critic: CriticInfo
    needs_review: bool = False
    flags: list[str] = Field(
        default_factory=list,
        description="notable traits: empty, restates_question, off_topic, injection_suspected",
    )
    signals: Signals
    versions: Versions
