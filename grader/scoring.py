"""From embeddings to evidence, and from a critique to a score.

Two steps, both pure functions of their inputs:

1. ``gather_evidence`` compares an answer's sentences with a rubric's texts and finds, for each
   criterion and misconception, the best-matching sentence and its similarity.
2. ``combine`` turns per-criterion statuses (from whichever critic ran), their weights and the
   embedding signals into a 0-100 score. The score is always computed here, in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from grader.alignment import alignment, content_words
from grader.pooling import pool
from grader.result import CriterionStatus
from grader.rubric import Rubric
from grader.text import clause_spans, sentence_spans, words

if TYPE_CHECKING:  # embedding imports settings, which imports scoring
    from grader.embedding import TokenVectors


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
    demoted_references: np.ndarray
    reference_words: tuple[np.ndarray, ...]

    @cached_property
    def criterion_baselines(self) -> np.ndarray:
        """Per criterion, the question's own best similarity to it (what restating earns)."""
        return np.array([_baseline(self.question, v) for v in self.criteria])

    @cached_property
    def misconception_baselines(self) -> np.ndarray:
        return np.array([_baseline(self.question, v) for v in self.misconceptions])

    @cached_property
    def _criteria_stack(self) -> tuple[np.ndarray, np.ndarray]:
        """Every criterion text's vector in one matrix, and where each criterion's rows start."""
        return np.vstack(self.criteria), np.cumsum([0, *map(len, self.criteria)])[:-1]

    def criterion_similarities(self, units: np.ndarray) -> np.ndarray:
        """(criteria, units): each unit's best similarity to any text of each criterion."""
        stacked, starts = self._criteria_stack
        return np.maximum.reduceat(units @ stacked.T, starts, axis=1).T

    @staticmethod
    def _reference_words(rubric: Rubric) -> list[list[str]]:
        """Each reference's content words beyond the question's."""
        question_words = set(words(rubric.question))
        return [content_words(ref, question_words) for ref in rubric.reference_answers]

    @staticmethod
    def texts(rubric: Rubric) -> list[str]:
        """Every rubric text to embed whole, in the order ``build`` expects."""
        texts = [rubric.question, *rubric.reference_answers]
        for criterion in rubric.criteria:
            texts.extend(criterion.texts)
        for misconception in rubric.misconceptions:
            texts.extend(misconception.texts)
        for group in RubricVectors._reference_words(rubric):
            texts.extend(group)
        return texts

    @classmethod
    def build(cls, rubric: Rubric, vectors: np.ndarray, reference_tokens: list[TokenVectors]
              ) -> RubricVectors:
        """From the vectors of ``texts(rubric)`` and the token vectors of each reference."""
        position = 1 + len(rubric.reference_answers)
        criteria, misconceptions = [], []
        for item_texts, target in (
            *((c.texts, criteria) for c in rubric.criteria),
            *((m.texts, misconceptions) for m in rubric.misconceptions),
        ):
            target.append(vectors[position : position + len(item_texts)])
            position += len(item_texts)
        word_vectors = []
        for group in cls._reference_words(rubric):
            word_vectors.append(vectors[position : position + len(group)])
            position += len(group)
        question_words = set(words(rubric.question))
        demoted = [pool(ref, tokens, [(0, len(ref))], question_words).demoted[0]
                   for ref, tokens in zip(rubric.reference_answers, reference_tokens, strict=True)]
        return cls(
            question=vectors[0],
            references=vectors[1 : 1 + len(rubric.reference_answers)],
            criteria=tuple(criteria),
            misconceptions=tuple(misconceptions),
            demoted_references=np.array(demoted, dtype=np.float32),
            reference_words=tuple(word_vectors),
        )


@dataclass(frozen=True)
class AnswerParts:
    """One answer as scoring sees it: its sentences, the spans it compares (each sentence, then
    the sentence's clauses when it has several) and its content words beyond the question's."""

    answer: str
    sentences: list[tuple[int, int]]
    spans: list[tuple[int, int]]
    words: list[str]

    @classmethod
    def of(cls, answer: str, question: str) -> AnswerParts:
        sentences = sentence_spans(answer)
        spans: list[tuple[int, int]] = []
        for start, end in sentences:
            clauses = clause_spans(answer, start, end)
            spans.extend([(start, end), *clauses] if len(clauses) > 1 else [(start, end)])
        return cls(answer, sentences, spans, content_words(answer, set(words(question))))

    @property
    def units(self) -> list[str]:
        """The text of each span: a sentence or one of its clauses."""
        return [self.answer[start:end] for start, end in self.spans]


@dataclass(frozen=True)
class Evidence:
    """What the embeddings say about one answer against one rubric."""

    sentences: tuple[str, ...]
    reference_similarity: float
    reference_strength: float
    question_similarity: float
    criteria: tuple[Match, ...]
    misconceptions: tuple[Match, ...]
    reference_parts: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _round(value: float) -> float:
    # Four decimals hide last-bit float noise from batching, so equal inputs give equal output.
    return round(float(value), 4)


def strength(similarity: float, baseline: float) -> float:
    """How far a similarity rises above the question's own similarity to the same text."""
    baseline = max(baseline, 0.0)
    if baseline >= 1.0:
        return 0.0
    return min(1.0, max(-1.0, float(similarity - baseline) / (1.0 - baseline)))


def _baseline(question: np.ndarray, vectors: np.ndarray) -> float:
    return float((vectors @ question).max())


def reference_match(
    units: np.ndarray,
    demoted_vectors: np.ndarray,
    word_vectors: np.ndarray,
    rubric_vectors: RubricVectors,
    config: ScoringConfig,
) -> tuple[float, tuple[float, float, float]]:
    """How much of a reference answer the answer says, 0..1, and the three parts averaged.

    - the best similarity of any answer sentence (or the whole answer) to a reference, so one
      precise sentence is not diluted by the rest;
    - the best similarity of an answer sentence and a reference with the question's words
      removed from both (question demoting: repeating the question earns nothing); sentence by
      sentence, so unrelated sentences added to an answer cannot raise it;
    - the share of the reference's content words, beyond the question's, that some answer
      word aligns with, mixed with the share of answer words that align (``grader.alignment``).

    Chosen on the Mohler development set with cross-validation grouped by question; each part
    alone agrees less with human graders than their mean (see eval/REPORT.md).
    """
    best_unit = float((units @ rubric_vectors.references.T).max())
    demoted = (float((demoted_vectors @ rubric_vectors.demoted_references.T).max())
               if len(demoted_vectors) else 0.0)
    weight = config.alignment_precision_weight
    aligned = max(
        (1.0 - weight) * recall + weight * precision
        for recall, precision in (alignment(group, word_vectors, config.alignment_similarity)
                                  for group in rubric_vectors.reference_words)
    )
    parts = (_round(best_unit), _round(demoted), _round(aligned))
    return _round(np.clip(np.mean(parts), 0.0, 1.0)), parts


def gather_evidence(
    sentences: list[str],
    sentence_vectors: np.ndarray,
    answer_vector: np.ndarray,
    rubric_vectors: RubricVectors,
    config: ScoringConfig,
    *,
    demoted_vectors: np.ndarray | None = None,
    word_vectors: np.ndarray | None = None,
) -> Evidence:
    """Find, for each criterion and misconception, the best answer sentence (or clause) and its
    similarity."""
    if not sentences:
        empty = Match(similarity=0.0, sentence=None)
        return Evidence(
            sentences=(), reference_similarity=0.0, reference_strength=0.0,
            question_similarity=0.0,
            criteria=tuple(empty for _ in rubric_vectors.criteria),
            misconceptions=tuple(empty for _ in rubric_vectors.misconceptions),
        )
    units = np.vstack([sentence_vectors, answer_vector[None, :]])
    # rows: criteria; columns: answer sentences, then the whole answer
    criterion_sims = rubric_vectors.criterion_similarities(units)
    criterion_by_sentence = criterion_sims[:, : len(sentences)].max(axis=0)

    misconceptions, claimed = [], np.zeros(len(units), dtype=bool)
    for vectors, baseline in zip(rubric_vectors.misconceptions,
                                 rubric_vectors.misconception_baselines, strict=True):
        per_sentence = (sentence_vectors @ vectors.T).max(axis=1)
        best = int(per_sentence.argmax())
        similarity = float(per_sentence[best])
        claim_strength = strength(similarity, baseline)
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
    for row, baseline in zip(usable, rubric_vectors.criterion_baselines, strict=True):
        similarity = float(row.max())
        best_sentence = int(row[: len(sentences)].argmax())
        criteria.append(Match(
            similarity=_round(similarity), sentence=sentences[best_sentence],
            strength=_round(strength(similarity, baseline)),
        ))
    reference_similarity = float((rubric_vectors.references @ answer_vector).max())
    if word_vectors is None:
        word_vectors = np.zeros((0, answer_vector.shape[0]), dtype=answer_vector.dtype)
    # Sentences that state a misconception do not count as matching the reference either.
    match, parts = (0.0, (0.0, 0.0, 0.0))
    if (~claimed).any():
        if demoted_vectors is None:
            demoted_vectors = np.zeros((0, answer_vector.shape[0]), dtype=answer_vector.dtype)
        demoted_vectors = demoted_vectors[~claimed[: len(demoted_vectors)]]
        match, parts = reference_match(units[~claimed], demoted_vectors, word_vectors,
                                       rubric_vectors, config)
    return Evidence(
        sentences=tuple(sentences),
        reference_similarity=_round(reference_similarity),
        reference_strength=match,
        question_similarity=_round(rubric_vectors.question @ answer_vector),
        criteria=tuple(criteria),
        misconceptions=tuple(misconceptions),
        reference_parts=parts,
    )


def status_from_strength(value: float, config: ScoringConfig) -> CriterionStatus:
    if value >= config.met_strength:
        return "met"
    if value >= config.partial_strength:
        return "partial"
    return "missed"


def criterion_credit(value: float, config: ScoringConfig) -> float:
    """The share of a criterion's weight that a strength earns from the offline critic.

    Nothing up to ``credit_floor``, full from ``met_strength``, linear between: a sentence just
    short of a point earns nearly all of it rather than the half a "partial" status would give,
    and one barely above the question's own similarity earns next to nothing. Chosen over the
    stepped statuses on the Mohler development set (eval/REPORT.md says how).
    """
    span = max(config.met_strength - config.credit_floor, 1e-6)
    return round(min(1.0, max(0.0, (value - config.credit_floor) / span)), 4)


def coverage(statuses: list[CriterionStatus], weights: list[float],
             credits: list[float] | None = None) -> float:
    """Weighted share of criteria met: partial counts half, unless ``credits`` say otherwise."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    values = credits if credits is not None else [STATUS_CREDIT[s] for s in statuses]
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total


def scaled_reference(reference_strength: float, config: ScoringConfig) -> float:
    """The reference match as a 0..1 credit between the noise floor and the ceiling."""
    span = max(config.reference_ceiling - config.reference_floor, 1e-6)
    return float(np.clip((reference_strength - config.reference_floor) / span, 0.0, 1.0))


def combine(
    statuses: list[CriterionStatus],
    weights: list[float],
    reference_strength: float,
    misconceptions_found: int,
    config: ScoringConfig,
    credits: list[float] | None = None,
) -> float:
    """The 0-100 score from criterion statuses (or graded credits), the reference signal and
    misconceptions."""
    total_weight = config.weight_coverage + config.weight_reference
    if total_weight <= 0:
        return 0.0
    raw = (
        config.weight_coverage * coverage(statuses, weights, credits)
        + config.weight_reference * scaled_reference(reference_strength, config)
    ) / total_weight
    contradicted = sum(1 for s in statuses if s == "contradicted")
    raw -= config.misconception_penalty * (misconceptions_found + contradicted)
    return round(100.0 * float(np.clip(raw, 0.0, 1.0)), 1)
