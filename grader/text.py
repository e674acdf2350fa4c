"""Plain-text helpers: splitting answers into sentences and clauses, normalising for comparison."""

from __future__ import annotations

import re
import unicodedata

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "resp.", "fig.", "eq.")
_PLACEHOLDER = "\u2063"  # invisible separator, never typed by a candidate
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*(?:[-*\u2022]|\d+[.)])?\s*")
_CLAUSE_BREAK = re.compile(r",?\s+(?:and|but|while|whereas|which|so)\s+|[,;:]\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

#: Sentences shorter than this many characters are merged into their neighbour.
MIN_SENTENCE_CHARS = 12


def normalize(text: str) -> str:
    """Case-fold, NFKC-normalise and collapse whitespace, for matching quotes and copies."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def words(text: str) -> list[str]:
    """Lowercase word tokens."""
    return _WORD.findall(normalize(text))


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping abbreviations and list items intact.

    >>> split_sentences("Adam uses momentum, e.g. an EMA. It also scales steps.")
    ['Adam uses momentum, e.g. an EMA.', 'It also scales steps.']
    """
    protected = text
    for abbreviation in _ABBREVIATIONS:
        protected = re.sub(
            re.escape(abbreviation),
            abbreviation.replace(".", _PLACEHOLDER),
            protected,
            flags=re.IGNORECASE,
        )
    pieces = [p.replace(_PLACEHOLDER, ".").strip() for p in _SENTENCE_END.split(protected)]
    sentences: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        if sentences and len(piece) < MIN_SENTENCE_CHARS:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def split_clauses(sentence: str, min_words: int = 4) -> list[str]:
    """Split one sentence into clauses of at least ``min_words`` words, for deriving criteria."""
    clauses: list[str] = []
    for part in _CLAUSE_BREAK.split(sentence):
        part = part.strip(" .")
        if not part:
            continue
        if clauses and len(words(part)) < min_words:
            clauses[-1] = f"{clauses[-1]} {part}"
        else:
            clauses.append(part)
    if len(clauses) > 1 and len(words(clauses[0])) < min_words:
        clauses[1] = f"{clauses[0]} {clauses[1]}"
        clauses.pop(0)
    return clauses or [sentence.strip()]


def token_overlap(answer: str, other: str) -> float:
    """Share of the answer's distinct words that also occur in ``other`` (0 for an empty answer)."""
    answer_words = set(words(answer))
    if not answer_words:
        return 0.0
    return len(answer_words & set(words(other))) / len(answer_words)
