"""A small learned judge: does the answer make each point? From features the model already gives.

Raw cosine similarity measures topic, not whether a point is made: a vague answer in the
right vocabulary looks like a right one. The judge combines, per criterion, what the evidence
already holds (similarity, strength above the question, the margin over the question's other
criteria, the nearest misconception) with lexical and word-level evidence that the passage
carries the criterion's *distinctive* content (stemmed content-word recall, word alignment),
negation, and a few answer-level signals. Two sets of gradient-boosted trees over these
(``grader.boosted_trees``) say whether the point is at least partly made and whether it is
made, which gives P(missed), P(partial), P(met). Each feature may move the credit one way only
(``MONOTONE``): stronger evidence never lowers it. The expected credit decides the status
through two cutoffs fitted out of fold (``grader judge train``), and is the criterion's credit
in the score.

The model is data: ``grader/data/criterion-judge.json``, versioned, trained by
``grader judge train`` on labeled answers. Applying it needs numpy only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from grader.boosted_trees import BoostedTrees
from grader.errors import ConfigurationError
from grader.evidence import AnswerParts, Evidence, RubricVectors
from grader.result import CriterionStatus
from grader.rubric import Rubric
from grader.text import STOP_WORDS, content_words, words

#: The features, in the order the model's coefficients expect.
FEATURES = (
    "sim", "strength", "baseline", "passage_sim", "whole_sim", "margin", "is_top",
    "rel_strength", "lex_recall", "lex_recall_all", "align_mean", "align_share", "mis_minus",
    "mis_max_strength", "neg_mismatch", "neg_passage", "ref_strength", "log_words_60",
    "n_passages", "weight",
)
#: The direction each feature may move a point's credit: 1 up, -1 down, 0 either way.
MONOTONE = {
    "sim": 1, "strength": 1, "baseline": 0, "passage_sim": 1, "whole_sim": 1, "margin": 1,
    "is_top": 1, "rel_strength": 1, "lex_recall": 1, "lex_recall_all": 1, "align_mean": 1,
    "align_share": 1, "mis_minus": -1, "mis_max_strength": -1, "neg_mismatch": -1,
    "neg_passage": 0, "ref_strength": 1, "log_words_60": 1, "n_passages": 0, "weight": 0,
}
#: Answer length counts up to this many words (feature ``log_words_60``).
LENGTH_SEEN = 60
#: Word alignment: an answer word at least this similar to a criterion word aligns with it.
ALIGN_SIMILARITY = 0.7
_NEGATIONS = frozenset({"not", "no", "never", "without", "cannot", "nor", "neither", "none",
                        "nothing"})
_SUFFIXES = (("izations", "ize"), ("ization", "ize"), ("ations", "ate"), ("ation", "ate"),
             ("ities", "ity"), ("ings", ""), ("ing", ""), ("ness", ""), ("ments", ""),
             ("ment", ""), ("ies", "y"), ("ied", "y"), ("ers", "er"), ("es", ""), ("ed", ""),
             ("ly", ""), ("s", ""))
_STATUSES: tuple[CriterionStatus, ...] = ("missed", "partial", "met")


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix-stripping stem, so "correcting" and "corrects" meet.

    >>> [stem(w) for w in ("corrects", "correcting", "normalization", "biases")]
    ['correct', 'correct', 'normalize', 'bias']
    """
    word = word.replace("'", "")
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


@lru_cache(maxsize=1 << 13)
def _text_stems(text: str, question: str) -> tuple[frozenset[str], frozenset[str]]:
    """A criterion text's stemmed content words: those not in the question, and all of them.
    They depend on the rubric alone, so they are computed once, not for every answer."""
    asked = set(words(question))
    content = content_words(text)
    return (frozenset(stem(w) for w in content if w not in asked),
            frozenset(stem(w) for w in content))


def _negated(text: str) -> bool:
    return any(w in _NEGATIONS or w.endswith("n't") for w in words(text))


def criterion_features(rubric: Rubric, parts: AnswerParts, passages: np.ndarray,
                       whole: np.ndarray, answer_words: np.ndarray, vectors: RubricVectors,
                       evidence: Evidence) -> np.ndarray:
    """(criteria, len(FEATURES)): the judge's inputs for every criterion of one answer.

    ``passages`` and ``whole`` are the answer's pooled vectors, ``answer_words`` a vector per
    content word of ``parts.words``; ``vectors.criterion_words`` the criteria's word vectors.
    """
    count = len(passages)
    answer_stems = {stem(w) for w in parts.words}
    all_stems = {stem(w) for w in words(parts.answer) if w not in STOP_WORDS}
    sims = (np.array([(passages @ c.T).max(axis=1) for c in vectors.criteria])
            if count else np.zeros((len(rubric.criteria), 0)))
    wrong = (np.array([(passages @ m.T).max(axis=1) for m in vectors.misconceptions])
             if count and vectors.misconceptions else np.zeros((0, count)))
    best_strength = max((m.strength for m in evidence.criteria), default=0.0)
    mis_max = max((m.strength for m in evidence.misconceptions), default=0.0)
    # a short answer makes fewer points; past LENGTH_SEEN words, length says nothing more
    # (uncapped, the judge learned that long answers are the strong ones and padded ones too)
    log_words = math.log1p(min(len(words(parts.answer)), LENGTH_SEEN))
    align_mean, align_share = _alignment(vectors, answer_words, len(rubric.criteria))
    rows = []
    for k, criterion in enumerate(rubric.criteria):
        match = evidence.criteria[k]
        best = int(sims[k].argmax()) if count else 0
        passage_sim = float(sims[k, best]) if count else 0.0
        others = np.delete(sims[:, best], k) if count else np.zeros(0)
        margin = passage_sim - float(others.max()) if len(others) else passage_sim
        recall = recall_all = 0.0
        for text in criterion.texts:
            distinctive, every = _text_stems(text, rubric.question)
            if distinctive:
                recall = max(recall, len(distinctive & answer_stems) / len(distinctive))
            if every:
                recall_all = max(recall_all, len(every & all_stems) / len(every))
        passage = parts.passage_texts[best] if count else ""
        rows.append([
            match.similarity, match.strength, float(vectors.criterion_baselines[k]),
            passage_sim, float((vectors.criteria[k] @ whole).max()), margin,
            float(margin > 0), match.strength / best_strength if best_strength > 0 else 0.0,
            recall, recall_all, float(align_mean[k]), float(align_share[k]),
            (float(wrong[:, best].max()) if len(wrong) else 0.0) - passage_sim,
            mis_max, float(_negated(passage) != _negated(criterion.description)),
            float(_negated(passage)), evidence.reference_strength, log_words,
            math.log1p(count), criterion.weight / rubric.total_weight,
        ])
    return np.array(rows, dtype=np.float64).reshape(len(rubric.criteria), len(FEATURES))


def _alignment(vectors: RubricVectors, answer_words: np.ndarray,
               criteria: int) -> tuple[np.ndarray, np.ndarray]:
    """Per criterion, over its texts, the best mean similarity of a text's words to their
    nearest answer word (clipped at 0), and the best share of its words that align (at least
    ``ALIGN_SIMILARITY``). One matrix product for all texts of all criteria."""
    mean, share = np.zeros(criteria), np.zeros(criteria)
    stack, starts, owner = vectors.criterion_word_stack
    if not len(stack) or not len(answer_words):
        return mean, share
    nearest = (stack @ answer_words.T).max(axis=1)
    sizes = np.diff(np.append(starts, len(stack)))
    text_mean = np.add.reduceat(np.clip(nearest, 0, 1), starts) / sizes
    text_share = np.add.reduceat((nearest >= ALIGN_SIMILARITY).astype(float), starts) / sizes
    np.maximum.at(mean, owner, text_mean)
    np.maximum.at(share, owner, text_share)
    return mean, share


@dataclass(frozen=True)
class Judgement:
    status: CriterionStatus
    credit: float  # the expected share of the criterion's weight, 0..1


@dataclass(frozen=True)
class CriterionJudge:
    """Two yes/no models over ``FEATURES``: is the point at least partly made, and is it made?
    Their probabilities give P(missed), P(partial), P(met); two cutoffs on the expected credit
    give the status."""

    version: str
    features: tuple[str, ...]
    at_least_partial: BoostedTrees
    at_least_met: BoostedTrees
    cutoffs: tuple[float, float]  # expected credit (0..2) at which partial, then met, begin
    trained_on: str = ""

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(criteria, 3): P(missed), P(partial), P(met) for each row of features."""
        some = self.at_least_partial.probability(features)
        made = np.minimum(self.at_least_met.probability(features), some)
        return np.stack([1.0 - some, some - made, made], axis=1)

    def judge(self, features: np.ndarray) -> list[Judgement]:
        out = []
        for p in self.probabilities(features):
            expected = float(p[1] + 2 * p[2])
            level = 2 if expected >= self.cutoffs[1] else 1 if expected >= self.cutoffs[0] else 0
            out.append(Judgement(_STATUSES[level], round(expected / 2, 4)))
        return out

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "trained_on": self.trained_on,
                "features": list(self.features), "cutoffs": list(self.cutoffs),
                "at_least_partial": self.at_least_partial.to_json(),
                "at_least_met": self.at_least_met.to_json()}

    def save(self, path: Path) -> None:
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.to_json()) + "\n", encoding="utf-8")
        partial.replace(path)

    @classmethod
    def from_json(cls, data: dict[str, object], where: str) -> CriterionJudge:
        try:
            features = tuple(str(f) for f in data["features"])  # type: ignore[attr-defined]
            if features != FEATURES:
                raise ValueError(f"its features {features} are not this grader's {FEATURES}")
            models = [BoostedTrees.from_json(data[name], len(FEATURES))  # type: ignore[arg-type]
                      for name in ("at_least_partial", "at_least_met")]
            judge = cls(
                version=str(data["version"]), trained_on=str(data.get("trained_on", "")),
                features=features, at_least_partial=models[0], at_least_met=models[1],
                cutoffs=(float(data["cutoffs"][0]), float(data["cutoffs"][1])),  # type: ignore[index]
            )
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise ConfigurationError(
                f"The criterion judge {where} cannot be used: {error}. Retrain it with "
                "`grader judge train`, or set GRADER_SCORING__OFFLINE_JUDGE=false.") from error
        return judge

    @classmethod
    def load(cls, path: Path) -> CriterionJudge:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"Cannot read the criterion judge {path}: {error}.") from error
        return cls.from_json(data, str(path))


DEFAULT_JUDGE = "criterion-judge.json"


@cache
def default_judge() -> CriterionJudge | None:
    """The judge shipped in the package, or None when none has been trained yet."""
    resource = files("grader.data").joinpath(DEFAULT_JUDGE)
    if not resource.is_file():
        return None
    return CriterionJudge.from_json(json.loads(resource.read_text(encoding="utf-8")),
                                    f"grader/data/{DEFAULT_JUDGE}")


def statuses(judgements: Sequence[Judgement]) -> list[CriterionStatus]:
    return [j.status for j in judgements]
