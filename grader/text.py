"""Plain-text helpers: splitting answers into sentences and clauses, normalising for comparison."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "resp.", "fig.", "eq.")
_PLACEHOLDER = "\u2063"  # invisible separator, never typed by a candidate
# A sentence ends at . ! ? ; before a capital letter or a digit (of any script: the pattern is
# built in ``_tables``), or at a line break (before a list item's bullet or number).
_SENTENCE_END_PATTERN = (r"(?<=[.!?;])\s+(?=[\"'(\[]?(?:{capital}|[0-9]))"
                         r"|\n\s*(?:[-*\u2022]|\d+[.)])?\s*")
# A joining word's whitespace may start only where a whitespace run starts (or after a comma):
# a match attempt from inside a long run would rescan the rest of it, quadratic in its length.
_CLAUSE_BREAK = re.compile(
    r"(?:,|(?<!\s))\s+(?:and|but|while|whereas|which|so)\s+|[,;:]\s+")

#: Sentences shorter than this many characters are merged into their neighbour.
MIN_SENTENCE_CHARS = 12


@dataclass(frozen=True)
class _UnicodeTables:
    """What ``normalize`` strips and what ``words`` matches, built on first use (a scan of the
    planes where Unicode has format characters and combining marks, about 70 ms)."""

    strip_format: dict[int, None]  # for str.translate: every format (Cf) character removed
    space_format: dict[int, str]  # for str.translate: every format character read as a space
    word: re.Pattern[str]  # a word of normalised text
    raw_word: re.Pattern[str]  # a word of raw text: format characters may sit inside it
    sentence_end: re.Pattern[str]  # where one sentence ends and the next starts


# The same words for ASCII text, where the general patterns give exactly these (tested); about
# three times faster, and most answers are ASCII.
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ASCII_WORD_ANY_CASE = re.compile(_ASCII_WORD.pattern, re.IGNORECASE)


@cache
def _tables() -> _UnicodeTables:
    format_chars: list[int] = []
    marks: list[int] = []
    capitals: list[int] = []
    for code in itertools.chain(range(0x20000), range(0xE0000, 0xE1000)):
        category = unicodedata.category(chr(code))
        if category == "Cf":
            format_chars.append(code)
        elif category[0] == "M":
            marks.append(code)
        elif category in ("Lu", "Lt"):
            capitals.append(code)
    mark, fmt = _char_class(marks), _char_class(format_chars)
    # Letters and digits of any script (``[^\W_]``) with their combining marks (Devanagari
    # vowel signs, say); after an apostrophe, letters only. For ASCII text this is exactly
    # ``[a-z0-9]+(?:'[a-z]+)?`` on lowercased text, the pattern ``words`` always had.
    alnum, alpha = r"[^\W_]", r"[^\W\d_]"
    word = rf"{alnum}(?:{alnum}|{mark})*(?:'{alpha}(?:{alpha}|{mark})*)?"
    raw = rf"{alnum}(?:{alnum}|{mark}|{fmt})*(?:'{alpha}(?:{alpha}|{mark}|{fmt})*)?"
    return _UnicodeTables(dict.fromkeys(format_chars), dict.fromkeys(format_chars, " "),
                          re.compile(word), re.compile(raw),
                          re.compile(_SENTENCE_END_PATTERN.format(capital=_char_class(capitals))))


def _char_class(codes: list[int]) -> str:
    """A regex character class of the (sorted) code points, consecutive ones as ranges."""
    parts: list[str] = []
    for _, run in itertools.groupby(enumerate(codes), lambda pair: pair[1] - pair[0]):
        points = [code for _, code in run]
        first, last = re.escape(chr(points[0])), re.escape(chr(points[-1]))
        parts.append(first if len(points) == 1 else f"{first}-{last}")
    return "[" + "".join(parts) + "]"


def strip_invisible(text: str, *, as_space: bool = False) -> str:
    """``text`` without format characters (Unicode category Cf): zero-width spaces and joiners,
    soft hyphens, direction marks, byte-order marks. They change no word a reader sees; with
    ``as_space``, each becomes a space instead (a zero-width space can separate words).

    >>> strip_invisible("wh\u200bat is a ten\u00adsor")
    'what is a tensor'
    """
    tables = _tables()
    return text.translate(tables.space_format if as_space else tables.strip_format)


def normalize(text: str) -> str:
    """Drop invisible characters, NFKC-normalise, case-fold and collapse whitespace, for
    matching quotes, copies and words: ``"ｆｕｌｌ\u200b marks"`` reads as ``"full marks"``."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", strip_invisible(text))
    return " ".join(text.casefold().split())


def words(text: str) -> list[str]:
    """Lowercase word tokens of ``normalize(text)``: letters and digits of any script.

    >>> words("Adam's step, naïve Café, ﬁne wh\u200bat, Привет")
    ["adam's", 'step', 'naïve', 'café', 'fine', 'what', 'привет']
    """
    normalized = normalize(text)
    if normalized.isascii():
        return _ASCII_WORD.findall(normalized)
    return _tables().word.findall(normalized)


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each word of ``text``, the word lowercased as ``words`` gives it.

    A raw word that normalises to several (a compatibility character such as ``¼``) gives each
    of them with the raw word's span.
    """
    if text.isascii():
        return [(m.start(), m.end(), m.group().lower())
                for m in _ASCII_WORD_ANY_CASE.finditer(text)]
    return [(m.start(), m.end(), word) for m in _tables().raw_word.finditer(text)
            for word in words(m.group())]


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping abbreviations and list items intact.

    >>> split_sentences("Adam uses momentum, e.g. an EMA. It also scales steps.")
    ['Adam uses momentum, e.g. an EMA.', 'It also scales steps.']
    """
    return [text[start:end] for start, end in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each sentence of ``split_sentences``, in order.

    Each sentence is a slice of ``text``, so its words can be located in the text (and in the
    tokens embedded from it). A fragment shorter than ``MIN_SENTENCE_CHARS`` joins the sentence
    before it, with whatever separated them.
    """
    protected = text
    for abbreviation in _ABBREVIATIONS:  # same length: one placeholder per dot
        protected = re.sub(
            re.escape(abbreviation),
            lambda match: match.group(0).replace(".", _PLACEHOLDER),
            protected,
            flags=re.IGNORECASE,
        )
    spans: list[tuple[int, int]] = []
    bounds = [(m.start(), m.end()) for m in _tables().sentence_end.finditer(protected)]
    start = 0
    for end, next_start in [*bounds, (len(text), len(text))]:
        piece = text[start:end]
        left, right = start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())
        if right > left:
            if spans and right - left < MIN_SENTENCE_CHARS:
                spans[-1] = (spans[-1][0], right)
            else:
                spans.append((left, right))
        start = next_start
    return spans


def split_clauses(sentence: str, min_words: int = 4) -> list[str]:
    """Split one sentence into clauses of at least ``min_words`` words, for deriving criteria."""
    return [sentence[start:end] for start, end in clause_spans(sentence, 0, len(sentence),
                                                               min_words)]


def clause_spans(text: str, start: int, end: int, min_words: int = 4) -> list[tuple[int, int]]:
    """(start, end) in ``text`` of each clause of the sentence ``text[start:end]``.

    Clauses break at commas, semicolons, colons and joining words ("and", "but", "which"...);
    a piece shorter than ``min_words`` words joins the clause before it (or, at the start, the
    one after it). A sentence with no break is one clause.
    """
    sentence = text[start:end]
    breaks = [(m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(sentence)]
    spans: list[tuple[int, int]] = []
    position = 0
    for stop, next_start in [*breaks, (len(sentence), len(sentence))]:
        piece = sentence[position:stop]
        left = position + len(piece) - len(piece.lstrip(" ."))
        right = position + len(piece.rstrip(" ."))
        if right > left:
            if spans and len(words(sentence[left:right])) < min_words:
                spans[-1] = (spans[-1][0], right)
            else:
                spans.append((left, right))
        position = next_start
    if len(spans) > 1 and len(words(sentence[spans[0][0] : spans[0][1]])) < min_words:
        spans[:2] = [(spans[0][0], spans[1][1])]
    if not spans:
        return [(start, end)]
    return [(start + left, start + right) for left, right in spans]


def token_overlap(answer: str, other: str) -> float:
    """Share of the answer's distinct words that also occur in ``other`` (0 for an empty answer)."""
    answer_words = set(words(answer))
    if not answer_words:
        return 0.0
    return len(answer_words & set(words(other))) / len(answer_words)


#: The words an id or a tag leaves out: articles, auxiliaries, pronouns, question words.
FUNCTION_WORDS = frozenset("""
a an the and or but if of to in on at by for with from into as is are was were be been being do
does did how what why when which who whom where whose can could should would will shall may
might must it its this that these those there their they them you your we our i me my he she his
her than then so such also very just only more most some any each other about between
""".split())

#: Words that carry no content of their own, for matching: ``FUNCTION_WORDS`` and more (a
#: compact English list; negations are in it, so matching ignores them).
STOP_WORDS = FUNCTION_WORDS | frozenset("""
above after again against all am because before below both doing down during either else etc
even ever every few further get gets had has have having here hers herself him himself however
itself let like make makes much myself no nor not now off once one ones ours ourselves out over
own per same something theirs themselves thing things through thus too under until up upon us
use used using via way ways whether while within without yet yours yourself yourselves
""".split())


def content_words(text: str, exclude: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Distinct non-stop-words of ``text`` in first-seen order, minus ``exclude``."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOP_WORDS and w not in exclude))


def slugify(text: str, *, max_words: int | None = None, drop_function_words: bool = True,
            fallback: str = "question") -> str:
    """A lowercase-hyphenated id from the text's words (without ``FUNCTION_WORDS`` by default).

    >>> slugify("What Is the Architecture Behind CNNs?", max_words=6)
    'architecture-behind-cnns'
    >>> slugify("my_quiz.q1", drop_function_words=False)
    'my-quiz-q1'
    """
    tokens = [w.replace("'", "") for w in words(text.replace("_", " ").replace(".", " "))]
    kept = [w for w in tokens if w not in FUNCTION_WORDS] if drop_function_words else tokens
    return "-".join((kept or tokens)[:max_words]) or fallback
