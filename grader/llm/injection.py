"""Deterministic detection of answers that try to instruct the grader.

This is one layer of several (see ``grader.llm.grounding``): patterns cannot catch every
phrasing, so the critic also trusts the model's own flag, and no quote from a flagged sentence
ever counts as evidence. The patterns cover the known families: orders to ignore the rubric or
instructions, demands for full marks, claims that a grade was already given, role-play, fake
verdict JSON, fake delimiters and chat-role tokens, and the same demands in other languages.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from grader.text import normalize, strip_invisible

_PATTERNS = [
    # Orders aimed at the grader, in English.
    # (Not "forget ... previous" or "skip ... previous": LSTM and ResNet answers say that.)
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rubric|rules|criteri"
    r"|prompt|guidelines?|system message)",
    r"\b(give|award|assign|grant|score|rate|mark|grade)\b.{0,40}\b(full|maximum|max|perfect|top"
    r"|highest|all)\b.{0,20}\b(mark|score|point|credit|grade)",
    r"\b(full|perfect|maximum|max)\s+(marks?|score|points|credit)\b",
    r"\b(mark|set|treat|consider|grade|count)\b.{0,30}\b(all|every|each)\b.{0,30}\b(criteri|point"
    r"|item)\w*\b.{0,20}\b(met|correct|satisfied|passed|fulfilled)\b",
    r"(?<![\d.])(10|100)\s*/\s*(10|100)\b|\b100\s*(%|percent)\b.{0,20}\b(score|mark|grade)",
    r"\balready\b.{0,30}\b(graded|scored|awarded|marked|approved)\b",
    r"\b(this|the|my)\s+answer\s+(must|should|has to|will)\s+(pass|get|receive|be (graded|marked))",
    # Role-play and claimed authority.
    r"\b(you are now|from now on|pretend|act as|role-?play|imagine you are|you must now)\b",
    r"\b(system prompt|system message|developer message|new instructions?|admin(istrator)? "
    r"override|jailbreak|dan mode)\b",
    r"\b(grader|examiner|evaluator|assessor|grading (model|system|ai)|rubric)\b",
    r"\b(evaluation|grading|scoring|marking)\s+(model|system|ai|bot|assistant)\b"
    r"|\b(ai|model|assistant|bot)\s+(that is\s+)?(grading|evaluating|scoring|marking)\b",
    r"\b(instructions?|note|message)\s+(for|to)\s+(the\s+)?(ai|model|assistant|evaluat|grad"
    r"|examiner|reviewer|marker)",
    r"\b(do not|don't|never)\s+(deduct|penali[sz]e|subtract|take off)\b",
    r"\b(correct|right|real|final|expected)\s+(score|grade|mark)\s+(for|of|is)\b",
    r"\b(strong|clear|full|automatic)\s+pass\b|\b(score|grade|mark)\s+(of\s+)?(100|10)\b",
    r"^\s*(system|assistant|user|developer|note to (the )?grader)\s*:",
    # Fake verdicts, delimiters and chat-template tokens.
    r"\"?\b(status|injection_attempt|verdict|score)\"?\s*:\s*\"?(met|true|false|pass|\d)",
    r"\"(criteria|misconceptions|feedback)\"\s*:",
    r"<{3,}|>{3,}|candidate[\s_-]*answer|<\|[^|>]{0,40}\|>|\[/?inst\]|</?(answer|system)>",
    r"\b(end|begin) of (the |my )?(answer|submission)\b",
    # The same demands in other languages.
    r"\b(ignora|ignore[zs]?|ignoriere\w*|ignorar|ignorate)\b.{0,40}\b(instruc|istruz|anweisung"
    r"|regla|r[eè]gle|regel|r[uú]brica|crit[eé]r|kriteri)",
    r"\b(puntuaci[oó]n|calificaci[oó]n|nota|note|punteggio|pontua[cç][aã]o|punktzahl|bewertung)"
    r"\s+(m[aá]xima|maximale?|massim[oa]|completa|parfaite|volle|h[oö]chste)",
    r"\b(volle|h[oö]chste)\s+(punktzahl|punkte|note|bewertung)\b",
    r"\b(todos los criterios|tous les crit[eè]res|alle kriterien|tutti i criteri"
    r"|todos os crit[eé]rios)\b",
    r"忽略|无视|满分|最高分|評価を|満点|無視|игнорир|максимальн\w*\s+балл|высш\w*\s+(балл|оценк)",
]
_PIECE_BREAK = re.compile(r"(?<=[.!?;])\s+|(?<=[\u3002\uff01\uff1f])|\n+")
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)

# Cyrillic and Greek letters that look like Latin ones, both cases (after NFKC, so fullwidth and
# other compatibility forms are already Latin). Matched in a folded copy only: the Russian
# patterns above still see the original letters.
_CONFUSABLES = str.maketrans({
    **dict(zip("АВЕЅІЈКМНОРСТУХԚԜҮҺӀ", "ABESIJKMHOPCTYXQWYHI", strict=True)),
    **dict(zip("аеѕіјорсухԛԝһԁӏүкмнтвї", "aesijopcyxqwhdlykmhtbi", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
    **dict(zip("αβεικνορτυχγηωı", "abeiknoptuxynwi", strict=True)),
})


def fold_confusables(text: str) -> str:
    """Cyrillic and Greek look-alikes of Latin letters replaced by the Latin letters.

    >>> fold_confusables("ignоre аll")  # Cyrillic о and а
    'ignore all'
    """
    return text.translate(_CONFUSABLES)


def _views(piece: str) -> set[str]:
    """The forms of a piece the patterns are matched in: NFKC-normalised, with invisible
    (format) characters removed or read as spaces, each also with look-alikes folded."""
    if piece.isascii():
        return {piece}
    views = {unicodedata.normalize("NFKC", strip_invisible(piece, as_space=space))
             for space in (False, True)}
    return views | {fold_confusables(view) for view in views}


def looks_like_injection(piece: str) -> bool:
    """Whether any pattern matches the piece, however it is disguised by invisible characters,
    compatibility forms (fullwidth letters) or Cyrillic and Greek look-alikes."""
    return any(_INJECTION.search(view) for view in _views(piece))


@dataclass(frozen=True)
class InjectionScan:
    """The answer's sentences that look like instructions to the grader, normalised."""

    sentences: tuple[str, ...]
    answer: str

    @property
    def suspected(self) -> bool:
        return bool(self.sentences)

    def taints(self, quote: str) -> bool:
        """Whether a (normalised) quote overlaps any flagged sentence."""
        if not quote:
            return False
        if any(quote in sentence or sentence in quote for sentence in self.sentences):
            return True
        starts, reach = self._flagged
        for start, end in _spans(self.answer, quote):
            # the flagged spans starting before this one ends; does any reach past its start?
            before = bisect.bisect_left(starts, end)
            if before and reach[before - 1] > start:
                return True
        return False

    @cached_property
    def _flagged(self) -> tuple[list[int], list[int]]:
        """Every occurrence of a flagged sentence in the answer, sorted by start: the starts,
        and the furthest end reached by any of the first ones (so an overlap check costs a
        binary search, not a scan: a long answer may repeat a quote thousands of times)."""
        spans = sorted(span for sentence in self.sentences
                       for span in _spans(self.answer, sentence))
        return [start for start, _ in spans], list(itertools.accumulate(
            (end for _, end in spans), max))


def _spans(haystack: str, needle: str) -> list[tuple[int, int]]:
    spans, start = [], haystack.find(needle)
    while needle and start >= 0:
        spans.append((start, start + len(needle)))
        start = haystack.find(needle, start + 1)
    return spans


def scan_injection(answer: str) -> InjectionScan:
    """Flag each piece of the answer that matches a pattern.

    Pieces are finer than ``split_sentences`` (which keeps "overfitting. {json" or a sentence
    followed by Chinese together), so that flagging an attack never taints the honest sentence
    before it.
    """
    pieces = [p for p in _PIECE_BREAK.split(answer) if p.strip()]
    flagged = dict.fromkeys(normalize(p) for p in pieces if looks_like_injection(p))
    return InjectionScan(sentences=tuple(flagged), answer=normalize(answer))


__all__ = ["InjectionScan", "fold_confusables", "looks_like_injection", "scan_injection"]
