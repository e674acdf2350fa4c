"""Deterministic drafting: a parsed question becomes a draft ``Rubric``.

Criteria are the answer's key sentences, with long ones split into clauses, using the helpers
of ``grader.text`` that ``grader.adhoc.derive_criteria`` uses. Thresholds differ from ad-hoc
questions on purpose: a document's answers are long, and derive_criteria's 18-word clause split
cut them into fragments ('Hidden layers are the bread' / 'butter of deep learning ...'). Short
fragments are merged back, lead-in lines dropped, and for long answers the points that open a
paragraph or are most central to the answer are kept. Ids, tags and difficulty come from the
question and its section headings.
"""

from __future__ import annotations

import re
from collections import Counter

from grader.ingest.parse import ParsedQuestion
from grader.rubric import Criterion, Difficulty, Misconception, Rubric, Source
from grader.text import FUNCTION_WORDS, normalize, slugify, split_clauses, split_sentences, words

#: Most criteria a deterministic draft keeps; the hand-written bank has five to seven.
MAX_CRITERIA = 8
#: Points with fewer words are merged into the point before them.
MIN_POINT_WORDS = 5
#: Sentences longer than this are split into clauses; shorter ones are one point each.
LONG_SENTENCE_WORDS = 32
MIN_CLAUSE_WORDS = 8
MAX_ID_WORDS = 6

_SELF_REFERENCE = re.compile(r"^(?:refer to|see)\b|\b(?:this|the rest of this) (?:article|post)\b",
                             re.I)
_PARENTHESES = re.compile(r"\([^()]*\)")
# Clause breaks inside parentheses are hidden from the splitter with characters no one types.
_MASK = str.maketrans({",": "\u2063", ";": "\u2064", ":": "\u2062"})
_UNMASK = str.maketrans({"\u2063": ",", "\u2064": ";", "\u2062": ":"})
_TAG_NOISE = frozenset({"interview", "questions", "question", "faq", "faqs", "q", "a", "part"})
_DIFFICULTY_WORDS: dict[str, Difficulty] = {
    "basic": "basic", "basics": "basic", "beginner": "basic", "easy": "basic",
    "fundamental": "basic", "fundamentals": "basic", "introductory": "basic",
    "intermediate": "intermediate", "medium": "intermediate",
    "advanced": "advanced", "hard": "advanced", "expert": "advanced", "senior": "advanced",
}


def tags_for(headings: list[str]) -> list[str]:
    """One tag per enclosing heading, without words every heading of a Q&A document shares."""
    tags: list[str] = []
    for heading in headings:
        kept = [w for w in words(heading) if w not in _TAG_NOISE and w not in FUNCTION_WORDS]
        tag = "-".join(w.replace("'", "") for w in kept)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def difficulty_for(headings: list[str]) -> Difficulty:
    """From the innermost heading naming a level ('Advanced ... Questions'); else intermediate."""
    for heading in reversed(headings):
        for word in words(heading):
            if word in _DIFFICULTY_WORDS:
                return _DIFFICULTY_WORDS[word]
    return "intermediate"


def key_points(answer: str, question: str = "", *, limit: int = MAX_CRITERIA) -> list[str]:
    """The answer's key sentences or clauses, in answer order, at most ``limit`` of them.

    Each paragraph and list item is split into sentences; a sentence over ``LONG_SENTENCE_WORDS``
    words is split into clauses by ``derive_criteria``. When there are too many points, the
    opening point of each paragraph or item and the points most central to the answer are kept.
    """
    points: list[str] = []
    topics: set[int] = set()
    for unit in _units(answer):
        first = len(points)
        for sentence in split_sentences(unit):
            if _SELF_REFERENCE.search(sentence):
                continue
            long = len(words(sentence)) > LONG_SENTENCE_WORDS
            pieces = _clauses(sentence) if long else [sentence]
            for piece in pieces:
                piece = re.sub(r"^[-*\u2022]\s+", "", piece.strip()).strip()
                if not words(piece):
                    continue
                if points and len(words(piece)) < MIN_POINT_WORDS:
                    points[-1] = _join(points[-1], piece)  # a fragment or short item: merge back
                else:
                    points.append(piece)
        if len(points) > first:
            topics.add(first)
    # Lead-ins such as 'There are three types of tensors:' introduce points; they are not one.
    kept = [i for i, p in enumerate(points) if not p.endswith(":") and
            len(words(p)) >= MIN_POINT_WORDS] or [i for i, p in enumerate(points) if len(p) >= 3]
    if not kept:  # nothing but fragments: the whole answer is the one point
        return [answer.strip()] if len(answer.strip()) >= 3 else []
    unique: list[int] = []
    for index in kept:
        if normalize(points[index]) not in {normalize(points[u]) for u in unique}:
            unique.append(index)
    if len(unique) > limit:
        unique = _most_central(points, unique, topics, question, limit)
    return [points[i] for i in unique]


def _join(point: str, fragment: str) -> str:
    separator = " " if point.endswith((".", "!", "?", ":")) else ", "
    return f"{point}{separator}{fragment}"


def _clauses(sentence: str) -> list[str]:
    """A long sentence's clauses of at least ``MIN_CLAUSE_WORDS`` words; parentheses stay whole."""
    masked = _PARENTHESES.sub(lambda m: m.group().translate(_MASK), sentence)
    return [clause.translate(_UNMASK) for clause in split_clauses(masked, MIN_CLAUSE_WORDS)]


def _units(answer: str) -> list[str]:
    """Paragraphs and list items: the places a writer starts a new point."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", answer):
        units.extend(item.strip() for item in re.split(r"\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)",
                                                        paragraph) if item.strip())
    return units


def _most_central(points: list[str], candidates: list[int], topics: set[int], question: str,
                  limit: int) -> list[int]:
    """The ``limit`` candidates that open a paragraph or share most words with the rest."""
    content = {i: {w for w in words(points[i]) if w not in FUNCTION_WORDS} for i in candidates}
    frequency = Counter(w for bag in content.values() for w in bag)
    question_words = {w for w in words(question) if w not in FUNCTION_WORDS}

    def score(index: int) -> float:
        bag = content[index]
        if not bag:
            return 0.0
        shared = sum(frequency[w] - 1 for w in bag) / len(bag)
        # A point that mostly repeats the question's words tells a grader little: the score
        # counts only what an answer says beyond the question.
        return (2.0 if index in topics else 0.0) + shared - len(bag & question_words) / len(bag)

    return sorted(sorted(candidates, key=score, reverse=True)[:limit])


def criteria_from_points(points: list[str]) -> list[Criterion]:
    """Criteria with weight 1 and no hint; ids from each point's first content words."""
    used: set[str] = set()
    criteria = []
    for index, point in enumerate(points, start=1):
        ident = unique_id(slugify(point, max_words=4, fallback=f"point-{index}"), used)
        criteria.append(Criterion(id=ident, description=point, weight=1.0, hint=""))
    return criteria


def unique_id(base: str, used: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free; the result is marked used."""
    candidate, suffix = base, 2
    while candidate in used:
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    used.add(candidate)
    return candidate


def question_text(parsed: ParsedQuestion) -> str:
    """The question as a candidate should see it: with its context (a case's background)."""
    return f"{parsed.question}\n\n{parsed.context}" if parsed.context else parsed.question


def reference_text(parsed: ParsedQuestion) -> str:
    """The document's answer; for a case with no answer, its background (flagged as a warning)."""
    return parsed.answer or parsed.context


def draft_rubric(
    parsed: ParsedQuestion,
    *,
    rubric_id: str,
    document: str,
    criteria: list[Criterion] | None = None,
    misconceptions: list[Misconception] | None = None,
) -> Rubric:
    """A draft rubric; criteria derived from the answer unless given (by the LLM, say).

    Raises ``pydantic.ValidationError`` when the draft breaks the schema.
    """
    reference = reference_text(parsed)
    if criteria is None:
        criteria = criteria_from_points(key_points(reference, parsed.question))
    return Rubric.model_validate({
        "id": rubric_id,
        "question": question_text(parsed),
        "source": Source(document=document, section=parsed.section or document,
                         number=parsed.number),
        "difficulty": difficulty_for(parsed.headings),
        "tags": tags_for(parsed.headings),
        "reference_answers": [reference],
        "criteria": criteria,
        "misconceptions": misconceptions or [],
        "draft": True,
    })
