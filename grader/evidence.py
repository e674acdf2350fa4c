"""Evidence: what the embeddings say about one answer against one rubric.

``gather_evidence`` compares an answer's passages (its sentences, and the clauses of sentences
that have several) with a rubric's texts and finds, for each criterion and misconception, the
best-matching passage, its similarity, and its *strength*: the similarity above what the
question alone scores. It judges nothing; critics and ``grader.scoring`` do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from grader.alignment import alignment
from grader.pooling import pool
from grader.rubric import Rubric
from grader.settings import ScoringConfig
from grader.text import clause_spans, content_words, sentence_spans, words
from grader.vectors import TokenVectors


@dataclass(frozen=True)
class Match:
    """The answer passage (a sentence or a clause) that best matches a rubric text."""

    similarity: float
    passage: str | None
    strength: float = 0.0


def criterion_words(rubric: Rubric) -> list[list[list[str]]]:
    """Per criterion, per text, its content words beyond the question's (aligned word by word
    by ``grader.judge``)."""
    question = set(words(rubric.question))
    return [[[w for w in content_words(text) if w not in question] for text in criterion.texts]
            for criterion in rubric.criteria]


@dataclass(frozen=True)
class RubricVectors:
    """A rubric's embedded texts; computed once per rubric version and reused."""

    question: np.ndarray
    references: np.ndarray
    criteria: tuple[np.ndarray, ...]
    misconceptions: tuple[np.ndarray, ...]
    demoted_references: np.ndarray
    reference_words: tuple[np.ndarray, ...]
    #: per criterion, per text, its content words' vectors (``criterion_words``)
    criterion_words: tuple[tuple[np.ndarray, ...], ...] = ()

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

    @cached_property
    def criterion_word_stack(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every criterion text's word vectors in one matrix; for each text with words, where
        its rows start and which criterion it belongs to (texts without words are left out)."""
        blocks = [(k, v) for k, per_text in enumerate(self.criterion_words)
                  for v in per_text if len(v)]
        if not blocks:
            return np.zeros((0, self.question.shape[-1])), np.zeros(0, int), np.zeros(0, int)
        sizes = [len(v) for _, v in blocks]
        return (np.vstack([v for _, v in blocks]), np.cumsum([0, *sizes])[:-1],
                np.array([k for k, _ in blocks]))

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
        for per_text in criterion_words(rubric):
            for group in per_text:
                texts.extend(group)
        return texts

    @classmethod
    def build(cls, rubric: Rubric, vectors: np.ndarray, reference_tokens: list[TokenVectors]
              ) -> RubricVectors:
        """From the vectors of ``texts(rubric)`` and the token vectors of each reference."""
        position = 1 + len(rubric.reference_answers)
        criteria: list[np.ndarray] = []
        misconceptions: list[np.ndarray] = []
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
        criterion_vectors = []
        for per_text in criterion_words(rubric):
            groups = []
            for group in per_text:
                groups.append(vectors[position : position + len(group)])
                position += len(group)
            criterion_vectors.append(tuple(groups))
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
            criterion_words=tuple(criterion_vectors),
        )


@dataclass(frozen=True)
class AnswerParts:
    """One answer as scoring sees it: its sentences, the passages it compares (each sentence,
    then the sentence's clauses when it has several) and its content words beyond the
    question's. Sentences and passages are (start, end) character ranges of ``answer``."""

    answer: str
    sentences: list[tuple[int, int]]
    passages: list[tuple[int, int]]
    words: list[str]

    @classmethod
    def of(cls, answer: str, question: str) -> AnswerParts:
        sentences = sentence_spans(answer)
        passages: list[tuple[int, int]] = []
        for start, end in sentences:
            clauses = clause_spans(answer, start, end)
            passages.extend([(start, end), *clauses] if len(clauses) > 1 else [(start, end)])
        return cls(answer, sentences, passages, content_words(answer, set(words(question))))

    @property
    def passage_texts(self) -> list[str]:
        """The text of each passage: a sentence or one of its clauses."""
        return [self.answer[start:end] for start, end in self.passages]


@dataclass(frozen=True)
class Evidence:
    """What the embeddings say about one answer against one rubric."""

    reference_similarity: float
    reference_strength: float
    question_similarity: float
    criteria: tuple[Match, ...]
    misconceptions: tuple[Match, ...]
    #: per criterion, the learned judge's inputs (``grader.judge.FEATURES``), when computed
    criterion_features: np.ndarray | None = None


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
) -> float:
    """How much of a reference answer the answer says, 0..1: the mean of three parts.

    - the best similarity of any answer passage (or the whole answer) to a reference, so one
      precise sentence is not diluted by the rest;
    - the best similarity of an answer passage and a reference with the question's words
      removed from both (question demoting: repeating the question earns nothing); passage by
      passage, so unrelated sentences added to an answer cannot raise it;
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
    return _round(np.clip(np.mean(parts), 0.0, 1.0))


def gather_evidence(
    passages: list[str],
    passage_vectors: np.ndarray,
    answer_vector: np.ndarray,
    rubric_vectors: RubricVectors,
    config: ScoringConfig,
    *,
    demoted_vectors: np.ndarray,
    word_vectors: np.ndarray,
) -> Evidence:
    """Find, for each criterion and misconception, the best answer passage and its similarity.

    ``passage_vectors`` and ``demoted_vectors`` have a row per passage (``grader.pooling``),
    ``word_vectors`` a row per content word of the answer beyond the question's.
    """
    if not passages:
        empty = Match(similarity=0.0, passage=None)
        return Evidence(
            reference_similarity=0.0, reference_strength=0.0, question_similarity=0.0,
            criteria=tuple(empty for _ in rubric_vectors.criteria),
            misconceptions=tuple(empty for _ in rubric_vectors.misconceptions),
        )
    units = np.vstack([passage_vectors, answer_vector[None, :]])
    # rows: criteria; columns: answer passages, then the whole answer
    criterion_sims = rubric_vectors.criterion_similarities(units)
    criterion_by_passage = criterion_sims[:, : len(passages)].max(axis=0)

    misconceptions, claimed = [], np.zeros(len(units), dtype=bool)
    for vectors, baseline in zip(rubric_vectors.misconceptions,
                                 rubric_vectors.misconception_baselines, strict=True):
        per_passage = (passage_vectors @ vectors.T).max(axis=1)
        best = int(per_passage.argmax())
        similarity = float(per_passage[best])
        claim_strength = strength(similarity, baseline)
        # A passage that matches a correct point about as well is not evidence of the error.
        clear = similarity - criterion_by_passage[best] >= config.misconception_margin
        found = claim_strength >= config.misconception_strength and clear
        if found:
            claimed[best] = claimed[-1] = True
        misconceptions.append(Match(
            similarity=_round(similarity), passage=passages[best] if found else None,
            strength=_round(claim_strength),
        ))

    # A passage that states a misconception is not also evidence for a correct point: embeddings
    # barely see negation, so "coefficients are probabilities" resembles "they are not".
    usable = np.where(claimed, 0.0, criterion_sims)
    criteria = []
    for row, baseline in zip(usable, rubric_vectors.criterion_baselines, strict=True):
        similarity = float(row.max())
        best_passage = int(row[: len(passages)].argmax())
        criteria.append(Match(
            similarity=_round(similarity), passage=passages[best_passage],
            strength=_round(strength(similarity, baseline)),
        ))
    reference_similarity = float((rubric_vectors.references @ answer_vector).max())
    # Passages that state a misconception do not count as matching the reference either.
    match = 0.0
    if (~claimed).any():
        match = reference_match(units[~claimed], demoted_vectors[~claimed[: len(demoted_vectors)]],
                                word_vectors, rubric_vectors, config)
    return Evidence(
        reference_similarity=_round(reference_similarity),
        reference_strength=match,
        question_similarity=_round(rubric_vectors.question @ answer_vector),
        criteria=tuple(criteria),
        misconceptions=tuple(misconceptions),
    )
