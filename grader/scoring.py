"""From embeddings to evidence, and from a critique to a score.

Two steps, both pure functions of their inputs:

1. ``gather_evidence`` compares an answer's sentences with a rubric's texts and finds, for each
   criterion and misconception, the best-matching sentence and its similarity.
2. ``combine`` turns per-criterion statuses (from whichever critic ran), their weights and the
   embedding signals into a 0-100 score. The score is always computed here, in code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from grader.result import CriterionStatus
from grader.rubric import Rubric


class ScoringConfig(BaseModel):
    """Thresholds and weights of the offline scoring. Settable as ``GRADER_SCORING__<FIELD>``."""

    model_config = ConfigDict(frozen=True)

    # Strength is similarity above what the question itself scores against the same text:
    # (similarity - baseline) / (1 - baseline). Restating the question gives 0, so an answer
    # earns credit only for content beyond the topic's words.
    met_strength: float = Field(default=0.45, ge=-1, le=1)
    partial_strength: float = Field(default=0.25, ge=-1, le=1)
    misconception_strength: float = Field(default=0.50, ge=-1, le=1)
    misconception_margin: float = Field(
        default=0.03, description="a claim must match a misconception this much better than any criterion"
    )
    reference_ceiling: float = Field(
        default=0.60, gt=0, description="reference strength that earns the full reference credit"
    )
    weight_coverage: float = Field(default=0.6, ge=0)
    weight_reference: float = Field(default=0.4, ge=0)
    misconception_penalty: float = Field(default=0.15, ge=0, le=1)
    restated_question_overlap: float = Field(
        default=0.8, description="answers whose words come this much from the question restate it"
    )
    restated_question_cap: float = Field(default=10.0, ge=0, le=100)
    review_disagreement: float = Field(
        default=0.35, description="LLM vs embedding coverage gap that sets needs_review"
    )


STATUS_CREDIT: dict[CriterionStatus, float] = {
    "met": 1.0, "partial": 0.5, "missed": 0.0, "contradicted": 0.0
}


@dataclass(frozen=True)
class Match:
    """The answer sentence that best matches a rubric text."""

    similarity: float
    sentence: str | None
    strength: float = 0.0


@dataclass(frozen=True)
class RubricVectors:
    """A rubric's embedded texts; computed once per rubric version and reused."""

    question: np.ndarray
    references: np.ndarray
    criteria: tuple[np.ndarray, ...]
    misconceptions: tuple[np.ndarray, ...]

    @staticmethod
    def texts(rubric: Rubric) -> list[str]:
        """Every rubric text to embed, in the order ``from_vectors`` expects."""
        texts = [rubric.question, *rubric.reference_answers]
        for criterion in rubric.criteria:
            texts.extend(criterion.texts)
        for misconception in rubric.misconceptions:
            texts.extend(misconception.texts)
        return texts

    @classmethod
    def from_vectors(cls, rubric: Rubric, vectors: np.ndarray) -> RubricVectors:
        position = 1 + len(rubric.reference_answers)
        criteria, misconceptions = [], []
        for item_texts, target in (
            *((c.texts, criteria) for c in rubric.criteria),
            *((m.texts, misconceptions) for m in rubric.misconceptions),
        ):
            target.append(vectors[position : position + len(item_texts)])
            position += len(item_texts)
        return cls(
            question=vectors[0],
            references=vectors[1 : 1 + len(rubric.reference_answers)],
            criteria=tuple(criteria),
            misconceptions=tuple(misconceptions),
        )


@dataclass(frozen=True)
class Evidence:
    """What the embeddings say about one answer against one rubric."""

    sentences: tuple[str, ...]
    reference_similarity: float
    reference_strength: float
    question_similarity: float
    criteria: tuple[Match, ...]
    misconceptions: tuple[Match, ...]


def _round(value: float) -> float:
    # Four decimals hide last-bit float noise from batching, so equal inputs give equal output.
    return round(float(value), 4)


def strength(similarity: float, baseline: float) -> float:
    """How far a similarity rises above the question's own similarity to the same text."""
    baseline = max(baseline, 0.0)
    if baseline >= 1.0:
        return 0.0
    return float(np.clip((similarity - baseline) / (1.0 - baseline), -1.0, 1.0))


def _baseline(question: np.ndarray, vectors: np.ndarray) -> float:
    return float((vectors @ question).max())


def gather_evidence(
    sentences: list[str],
    sentence_vectors: np.ndarray,
    answer_vector: np.ndarray,
    rubric_vectors: RubricVectors,
    config: ScoringConfig,
) -> Evidence:
    """Find, for each criterion and misconception, the best answer sentence and its similarity."""
    if not sentences:
        empty = Match(similarity=0.0, sentence=None)
        return Evidence(
            sentences=(), reference_similarity=0.0, reference_strength=0.0,
            question_similarity=0.0,
            criteria=tuple(empty for _ in rubric_vectors.criteria),
            misconceptions=tuple(empty for _ in rubric_vectors.misconceptions),
        )
    question = rubric_vectors.question
    units = np.vstack([sentence_vectors, answer_vector[None, :]])
    # rows: criteria; columns: answer sentences, then the whole answer
    criterion_sims = np.stack([(units @ v.T).max(axis=1) for v in rubric_vectors.criteria])
    criterion_by_sentence = criterion_sims[:, : len(sentences)].max(axis=0)

    misconceptions, claimed = [], np.zeros(len(units), dtype=bool)
    for vectors in rubric_vectors.misconceptions:
        per_sentence = (sentence_vectors @ vectors.T).max(axis=1)
        best = int(per_sentence.argmax())
        similarity = float(per_sentence[best])
        claim_strength = strength(similarity, _baseline(question, vectors))
        # A sentence that matches a correct point about as well is not evidence of the error.
        clear = similarity - criterion_by_sentence[best] >= config.misconception_margin
        found = claim_strength >= config.misconception_strength and clear
        if found:
            claimed[best] = claimed[-1] = True
        misconceptions.append(Match(
            similarity=_round(similarity), sentence=sentences[best] if found else None,
            strength=_round(claim_strength),
        ))

    # A sentence that states a misconception is not also evidence for a correct point: embeddings
    # barely see negation, so "coefficients are probabilities" resembles "they are not".
    usable = np.where(claimed, 0.0, criterion_sims)
    criteria = []
    for row, vectors in zip(usable, rubric_vectors.criteria, strict=True):
        similarity = float(row.max())
        best_sentence = int(row[: len(sentences)].argmax())
        criteria.append(Match(
            similarity=_round(similarity), sentence=sentences[best_sentence],
            strength=_round(strength(similarity, _baseline(question, vectors))),
        ))
    reference_similarity = float((rubric_vectors.references @ answer_vector).max())
    return Evidence(
        sentences=tuple(sentences),
        reference_similarity=_round(reference_similarity),
        reference_strength=_round(
            strength(reference_similarity, _baseline(question, rubric_vectors.references))
        ),
        question_similarity=_round(rubric_vectors.question @ answer_vector),
        criteria=tuple(criteria),
        misconceptions=tuple(misconceptions),
    )


def status_from_strength(value: float, config: ScoringConfig) -> CriterionStatus:
    if value >= config.met_strength:
        return "met"
    if value >= config.partial_strength:
        return "partial"
    return "missed"


def coverage(statuses: list[CriterionStatus], weights: list[float]) -> float:
    """Weighted share of criteria met; partial counts half."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    return sum(STATUS_CREDIT[s] * w for s, w in zip(statuses, weights, strict=True)) / total


def scaled_reference(reference_strength: float, config: ScoringConfig) -> float:
    return float(np.clip(reference_strength / config.reference_ceiling, 0.0, 1.0))


def combine(
    statuses: list[CriterionStatus],
    weights: list[float],
    reference_strength: float,
    misconceptions_found: int,
    config: ScoringConfig,
) -> float:
    """The 0-100 score from criterion statuses, the reference signal and misconceptions."""
    total_weight = config.weight_coverage + config.weight_reference
    if total_weight <= 0:
        return 0.0
    raw = (
        config.weight_coverage * coverage(statuses, weights)
        + config.weight_reference * scaled_reference(reference_strength, config)
    ) / total_weight
    contradicted = sum(1 for s in statuses if s == "contradicted")
    raw -= config.misconception_penalty * (misconceptions_found + contradicted)
    return round(100.0 * float(np.clip(raw, 0.0, 1.0)), 1)
