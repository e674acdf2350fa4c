"""Turning a model's reply into a ``Critique`` that only counts what the answer really says.

Rules, applied in code to every reply (fresh or cached):

1. A quote counts only if it is in the answer (case, whitespace and Unicode form normalised;
   surrounding quote marks and ``...`` elisions allowed), has at least two words, and does not
   overlap a sentence that ``grader.llm.injection`` flagged.
2. A ``met`` or ``partial`` without such a quote is downgraded to what the embedding evidence
   supports for that criterion, never above ``partial``: the model's word alone earns no more
   than the offline critic would give, and never full credit. A ``contradicted`` without such a
   quote becomes ``missed`` (no penalty without evidence). Misconceptions without one are dropped.
3. When an injection is suspected (by the patterns or by the model's own flag), the model's
   judgement is treated as tainted: no criterion may rise above its embedding status, embedding
   evidence from flagged sentences is ignored, and misconceptions the embeddings found are kept
   even if the model left them out. The model may still lower a status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.critic import CriterionJudgement, CritiqueRequest, MisconceptionJudgement
from grader.llm.injection import InjectionScan
from grader.llm.replies import CritiqueReply
from grader.result import CriterionStatus
from grader.scoring import status_from_strength
from grader.text import normalize, words

_RANK: dict[CriterionStatus, int] = {"contradicted": -1, "missed": 0, "partial": 1, "met": 2}
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|\u2026)\s*")
_WRAPPERS = "\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb "
MIN_QUOTE_WORDS = 2


@dataclass(frozen=True)
class Grounded:
    criteria: tuple[CriterionJudgement, ...]
    misconceptions: tuple[MisconceptionJudgement, ...]
    changed: bool  # any status downgraded or capped, or any misconception dropped or added


def quote_problem(quote: str, answer: str, scan: InjectionScan) -> str | None:
    """Why a quote does not count as evidence, or None when it does."""
    text = quote.strip(_WRAPPERS)
    if not text.strip(". \u2026"):
        return "no quote was given"
    pieces = [normalize(p) for p in _ELLIPSIS.split(text) if p.strip(_WRAPPERS)]
    if sum(len(words(p)) for p in pieces) < MIN_QUOTE_WORDS:
        return "the quote is too short to show anything"
    haystack, position = normalize(answer), 0
    for piece in pieces:
        found = haystack.find(piece, position)
        if found < 0:
            return "the quote is not in the answer"
        position = found + len(piece)
    if any(scan.taints(piece) for piece in pieces):
        return "the quote is text that tries to instruct the grader"
    return None


def _lower(a: CriterionStatus, b: CriterionStatus) -> CriterionStatus:
    return a if _RANK[a] <= _RANK[b] else b


def ground(reply: CritiqueReply, request: CritiqueRequest, scan: InjectionScan) -> Grounded:
    """Apply the grounding rules (module docstring) to a validated reply."""
    suspected = scan.suspected or reply.injection_attempt
    by_id = {verdict.id: verdict for verdict in reply.criteria}
    changed = False
    criteria = []
    for criterion, match in zip(request.rubric.criteria, request.evidence.criteria, strict=True):
        verdict = by_id[criterion.id]
        tainted_match = match.passage is not None and scan.taints(normalize(match.passage))
        embedded: CriterionStatus = (
            "missed" if tainted_match else status_from_strength(match.strength, request.scoring))
        status: CriterionStatus = verdict.status
        evidence: str | None = verdict.quote.strip(_WRAPPERS) or None
        reason = verdict.reason
        problem = quote_problem(verdict.quote, request.answer, scan) if status != "missed" else None
        if problem is not None:
            status = "missed" if status == "contradicted" else _lower(embedded, "partial")
            reason = f"model said {verdict.status}, not counted: {problem}"
        if suspected and status != "contradicted" and _RANK[status] > _RANK[embedded]:
            status = embedded
            reason = (f"model said {verdict.status}; capped to the embedding evidence because "
                      "the answer tries to instruct the grader")
        if status != verdict.status:
            changed = True
            evidence = match.passage if status in ("met", "partial") else None
        if status == "missed":
            evidence = None
        criteria.append(CriterionJudgement(id=criterion.id, status=status, evidence=evidence,
                                           reason=reason))

    found: dict[str, MisconceptionJudgement] = {}
    for item in reply.misconceptions:
        if item.id in found:
            continue
        if quote_problem(item.quote, request.answer, scan) is None:
            found[item.id] = MisconceptionJudgement(id=item.id,
                                                    evidence=item.quote.strip(_WRAPPERS))
        else:
            changed = True
    if suspected:
        for misconception, match in zip(request.rubric.misconceptions,
                                        request.evidence.misconceptions, strict=True):
            if match.passage is not None and misconception.id not in found:
                found[misconception.id] = MisconceptionJudgement(misconception.id, match.passage)
                changed = True
    order = [m.id for m in request.rubric.misconceptions]
    return Grounded(
        criteria=tuple(criteria),
        misconceptions=tuple(sorted(found.values(), key=lambda m: order.index(m.id))),
        changed=changed,
    )


__all__ = ["Grounded", "MIN_QUOTE_WORDS", "ground", "quote_problem"]
