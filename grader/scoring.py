"""From a critique to a score: statuses, credit, combination and the rules that cap it.

Every function here is a pure function of its inputs. The score is always computed in code,
whichever critic judged the criteria:

- ``combine`` mixes weighted criterion coverage with the reference match and subtracts a
  penalty per wrong claim;
- ``score_answer`` applies the rules on top: an empty answer scores 0, a restated question is
  capped, an answer that matches nothing is flagged off topic;
- ``needs_review`` says when a person should look: a suspected injection, or an LLM critic
  that disagrees with the embedding evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from grader.result import CriterionStatus, Verdict
from grader.settings import ScoringConfig

STATUS_CREDIT: dict[CriterionStatus, float] = {
    "met": 1.0, "partial": 0.5, "missed": 0.0, "contradicted": 0.0
}


def status_from_strength(value: float, config: ScoringConfig) -> CriterionStatus:
    """The offline critic's status for a criterion whose best passage has this strength."""
    if value >= config.met_strength:
        return "met"
    if value >= config.partial_strength:
        return "partial"
    return "missed"


def criterion_credit(value: float, config: ScoringConfig) -> float:
    """The share of a criterion's weight that a strength earns from the offline critic.

    Nothing up to ``credit_floor``, full from ``met_strength``, linear between: a passage just
    short of a point earns nearly all of it rather than the half a "partial" status would give,
    and one barely above the question's own similarity earns next to nothing. Chosen over the
    stepped statuses on the Mohler development set (eval/REPORT.md says how).
    """
    span = max(config.met_strength - config.credit_floor, 1e-6)
    return round(min(1.0, max(0.0, (value - config.credit_floor) / span)), 4)


def coverage(statuses: Sequence[CriterionStatus], weights: Sequence[float],
             credits: Sequence[float] | None = None) -> float:
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
    statuses: Sequence[CriterionStatus],
    weights: Sequence[float],
    reference_strength: float,
    misconceptions_found: int,
    config: ScoringConfig,
    credits: Sequence[float] | None = None,
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


@dataclass(frozen=True)
class AnswerScore:
    """The score and the flags the scoring rules raised."""

    score: float
    flags: tuple[str, ...]
    raw: float = 0.0


def score_answer(
    statuses: Sequence[CriterionStatus],
    weights: Sequence[float],
    credits: Sequence[float] | None,
    *,
    reference_strength: float,
    misconceptions_found: int,
    answer_words: int,
    new_words: int,
    config: ScoringConfig,
    calibrate: Callable[[float], float] | None = None,
) -> AnswerScore:
    """``combine`` (then ``calibrate``, the shipped map to an expert's scale), then the rules: an
    answer with no words scores 0 (``empty``); one with no more than
    ``restated_question_new_words`` content words beyond the question's is capped
    (``restates_question``); one that matches no reference, criterion or misconception is
    flagged ``off_topic`` and never calibrated above its raw score. ``raw`` is the score
    before calibration."""
    raw = combine(statuses, weights, reference_strength, misconceptions_found, config, credits)
    score = calibrate(raw) if calibrate is not None else raw
    if answer_words == 0:
        return AnswerScore(0.0, ("empty",), 0.0)
    if new_words <= config.restated_question_new_words:
        return AnswerScore(min(score, config.restated_question_cap), ("restates_question",), raw)
    if (reference_strength < config.off_topic_match and not misconceptions_found
            and not any(s in ("met", "partial") for s in statuses)):
        # the calibration's floor was fitted on on-topic wrong answers: it does not lift these
        return AnswerScore(min(score, raw), ("off_topic",), raw)
    return AnswerScore(score, (), raw)


def needs_review(
    flags: Sequence[str],
    weights: Sequence[float],
    llm_statuses: Sequence[CriterionStatus] | None,
    strengths: Sequence[float],
    config: ScoringConfig,
) -> bool:
    """A person should look: an injection was suspected, or the LLM critic's coverage differs
    from what the embedding evidence (the offline critic's statuses and graded credit) supports
    by more than ``review_disagreement``."""
    if "injection_suspected" in flags:
        return True
    if llm_statuses is None:
        return False
    embedding_statuses = [status_from_strength(s, config) for s in strengths]
    embedding_credits = [criterion_credit(s, config) for s in strengths]
    gap = abs(coverage(embedding_statuses, weights, embedding_credits)
              - coverage(llm_statuses, weights))
    return gap > config.review_disagreement


def verdict(score: float, pass_threshold: float, borderline_threshold: float) -> Verdict:
    if score >= pass_threshold:
        return "pass"
    if score >= borderline_threshold:
        return "borderline"
    return "fail"
