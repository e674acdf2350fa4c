"""Critics judge an answer against a rubric. One interface, swappable implementations.

The offline critic here is deterministic and needs nothing but the embedding evidence. The
LLM critic (``grader.llm``) adds judgement and falls back to this one when it cannot answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from grader.errors import CriticError
from grader.evidence import Evidence
from grader.judge import CriterionJudge
from grader.result import CriterionStatus, CriticInfo, Feedback
from grader.rubric import Rubric
from grader.scoring import criterion_credit, status_from_strength
from grader.settings import ScoringConfig

#: What a client is told when the LLM critic fails: its details (the server's address, its
#: error text) are for the operator, in the log of ``LLM_LOGGER``.
FALLBACK_REASON = "the LLM critic did not answer usably; graded offline"
LLM_LOGGER = "grader.llm"
_log = logging.getLogger(LLM_LOGGER)


@dataclass(frozen=True)
class CritiqueRequest:
    """Everything a critic may look at."""

    rubric: Rubric
    answer: str
    evidence: Evidence
    scoring: ScoringConfig = field(default_factory=ScoringConfig)


@dataclass(frozen=True)
class CriterionJudgement:
    id: str
    status: CriterionStatus
    evidence: str | None
    reason: str | None = None
    credit: float | None = None  # share of the weight earned; None: what the status earns


@dataclass(frozen=True)
class MisconceptionJudgement:
    id: str
    evidence: str


@dataclass(frozen=True)
class Critique:
    """A critic's verdict on each criterion, the misconceptions it found, and its feedback."""

    criteria: tuple[CriterionJudgement, ...]
    misconceptions: tuple[MisconceptionJudgement, ...]
    feedback: Feedback
    info: CriticInfo
    flags: tuple[str, ...] = field(default=())


@runtime_checkable
class Critic(Protocol):
    """Judges one answer. Implementations must not raise for a bad answer; they judge it."""

    def critique(self, request: CritiqueRequest) -> Critique: ...


class OfflineCritic:
    """Deterministic critic: statuses and graded credit per criterion from the embedding
    evidence, feedback from the rubric.

    With a ``judge`` (``grader.judge``, the default when ``Grader`` builds it) and the
    evidence's criterion features (computed for bank questions), the learned judge decides each
    status and its credit; else the strength thresholds of ``ScoringConfig`` do.
    """

    def __init__(self, judge: CriterionJudge | None = None) -> None:
        self.judge = judge

    def critique(self, request: CritiqueRequest) -> Critique:
        rubric, evidence, config = request.rubric, request.evidence, request.scoring
        features = evidence.criterion_features
        if self.judge is not None and features is not None and config.offline_judge:
            verdicts = [(j.status, j.credit) for j in self.judge.judge(features)]
        else:
            verdicts = [(status_from_strength(m.strength, config),
                         criterion_credit(m.strength, config)) for m in evidence.criteria]
        judgements = tuple(
            CriterionJudgement(
                id=criterion.id, status=status,
                evidence=match.passage if status != "missed" else None, credit=credit,
            )
            for criterion, match, (status, credit) in zip(rubric.criteria, evidence.criteria,
                                                           verdicts, strict=True)
        )
        found = tuple(
            MisconceptionJudgement(id=misconception.id, evidence=match.passage)
            for misconception, match in zip(rubric.misconceptions, evidence.misconceptions,
                                            strict=True)
            if match.passage is not None
        )
        return Critique(
            criteria=judgements,
            misconceptions=found,
            feedback=offline_feedback(rubric, judgements, tuple(m.id for m in found)),
            info=CriticInfo(kind="offline"),
        )


class FallbackCritic:
    """Asks ``primary``; when it raises ``CriticError``, asks ``fallback`` and says so.

    The fallback's critique carries the primary's model, token usage and flags (an LLM that
    was fooled into an unusable reply still reports the injection it saw). Its
    ``fallback_reason`` is the generic ``FALLBACK_REASON``; why the primary failed is logged
    (logger ``grader.llm``), since it names the server and quotes its errors.
    """

    def __init__(self, primary: Critic, fallback: Critic) -> None:
        self.primary = primary
        self.fallback = fallback

    def critique(self, request: CritiqueRequest) -> Critique:
        try:
            return self.primary.critique(request)
        except CriticError as error:
            _log.warning("LLM critic failed on question %r; graded offline: %s",
                         request.rubric.id, error)
            critique = self.fallback.critique(request)
            info = CriticInfo(kind=critique.info.kind, fallback_reason=FALLBACK_REASON,
                              usage=error.usage, model=error.model)
            return Critique(criteria=critique.criteria, misconceptions=critique.misconceptions,
                            feedback=critique.feedback, info=info, flags=error.flags)


def offline_feedback(
    rubric: Rubric, judgements: tuple[CriterionJudgement, ...], misconception_ids: tuple[str, ...]
) -> Feedback:
    """Feedback a candidate can act on, built only from the rubric (never the full reference)."""
    by_id = {criterion.id: criterion for criterion in rubric.criteria}
    wrong = {m.id: m for m in rubric.misconceptions}
    met = [j for j in judgements if j.status == "met"]
    partial = [j for j in judgements if j.status == "partial"]
    missed = [j for j in judgements if j.status in ("missed", "contradicted")]

    strengths = [f"You made the point: {by_id[j.id].description}" for j in met]
    missing = [
        f"Develop this further: {by_id[j.id].hint or by_id[j.id].description}" for j in partial
    ] + [f"Missing: {by_id[j.id].hint or 'a key point about ' + j.id.replace('-', ' ')}"
         for j in missed]
    corrections = [f"You said something like \"{wrong[m].claim}\" {wrong[m].why_wrong}"
                   for m in misconception_ids]

    if not met and not partial:
        summary = "The answer does not address the key points of this question yet."
    else:
        summary = (f"You covered {len(met)} of {len(judgements)} key points"
                   + (f" and touched on {len(partial)} more" if partial else "") + ".")
    if corrections:
        claims = "a wrong claim" if len(corrections) == 1 else f"{len(corrections)} wrong claims"
        summary += f" It also contains {claims} to fix."
    elif missed:
        summary += " Add the missing points below to strengthen it."
    return Feedback(summary=summary, strengths=strengths, missing=missing, corrections=corrections)
