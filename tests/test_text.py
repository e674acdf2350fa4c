from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from grader.adhoc import AdhocQuestion, derive_criteria, rubric_from_adhoc
from grader.text import (
    _CLAUSE_BREAK,
    _tables,
    clause_spans,
    normalize,
    sentence_spans,
    split_clauses,
    split_sentences,
    token_overlap,
    word_spans,
    words,
)
from tests.linear_time import assert_linear


def test_sentences_keep_abbreviations_and_split_list_items() -> None:
    text = ("Adam uses momentum, e.g. an EMA of gradients. It adapts steps!\n- bullet one here\n"
            "2. numbered item")
    assert split_sentences(text) == [
        "Adam uses momentum, e.g. an EMA of gradients.",
        "It adapts steps!",
        "bullet one here",
        "numbered item",
    ]


def test_short_fragments_join_their_neighbour() -> None:
    assert split_sentences("Tensors are arrays. Yes. They have a shape.") == [
        "Tensors are arrays. Yes.", "They have a shape."
    ]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("  \n ") == []


def test_clauses_split_long_sentences_without_tiny_pieces() -> None:
    clauses = split_clauses("A stack stores items in order, and it removes the newest item first")
    assert clauses == ["A stack stores items in order", "it removes the newest item first"]


def test_normalize_and_overlap() -> None:
    assert normalize("  Adam\tIS  ﬁne ") == "adam is fine"
    assert token_overlap("What is a tensor?", "what IS a tensor") == 1.0
    assert token_overlap("", "anything") == 0.0


def test_derived_criteria_come_from_the_reference() -> None:
    reference = ("A tensor is an n-dimensional array. It has a shape, a data type and a device, "
                 "and frameworks store it contiguously in memory with strides describing the "
                 "layout.")
    points = derive_criteria(reference)
    assert points[0] == "A tensor is an n-dimensional array."
    assert len(points) >= 3


def test_adhoc_rubric_is_stable_and_uses_given_criteria() -> None:
    question = AdhocQuestion(question="What is a stack?", reference_answers=["LIFO structure."],
                             criteria=["last in, first out"])
    first, second = rubric_from_adhoc(question), rubric_from_adhoc(question)
    assert first == second and first.id.startswith("adhoc-")
    assert [c.description for c in first.criteria] == ["last in, first out"]


# -- issue 16: linear time, Unicode-aware words ---------------------------------------------------

RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"

# The text helpers as they were before issue 16: words() knew only [a-z0-9].
_OLD_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _old_words(text: str) -> list[str]:
    return _OLD_WORD.findall(" ".join(unicodedata.normalize("NFKC", text).casefold().split()))


PATHOLOGICAL = {
    "whitespace-run": lambda n: "a" + " " * n + "b",
    "tab-and-newline-run": lambda n: "a" + " \t\n" * (n // 3) + "b",
    "newline-space-run": lambda n: "a." + "\n " * (n // 2) + "b",
    "comma-run": lambda n: "a" + "," * n + " b",
    "comma-space-run": lambda n: "a" + ", " * (n // 2) + "b",
    "joining-words": lambda n: "x and " * (n // 6),
    "space-before-commas": lambda n: "a" + " ," * (n // 2) + "and b",
    "sentence-ends": lambda n: "A. " * (n // 3),
    "abbreviations": lambda n: "e.g. " * (n // 5),
    "digits-after-newline": lambda n: "\n" + "1" * n,
    "zero-width-spaces": lambda n: "a\u200b" * (n // 2),
    "combining-marks": lambda n: "a" + "\u0301" * n,
}


@pytest.mark.parametrize("make", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_clause_and_sentence_splitting_take_linear_time(make: Callable[[int], str]) -> None:
    # A whitespace run made _CLAUSE_BREAK quadratic: 2.5 s for one 20,000-character answer.
    assert_linear(lambda text: clause_spans(text, 0, len(text)), make)
    assert_linear(sentence_spans, make)
    assert_linear(words, make)
    assert_linear(word_spans, make)


def _ascii_corpus() -> list[str]:
    texts: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for path in sorted(RUBRICS.glob("*.yaml")):
        collect(yaml.safe_load(path.read_text(encoding="utf-8")))
    every_ascii = "".join(map(chr, range(128)))
    texts += [every_ascii, every_ascii.upper(), "It's 90's rock'n'roll: don't, can't; a'1 'x' y'"]
    return [text.encode("ascii", "replace").decode() for text in texts]


def test_words_of_ascii_text_are_exactly_what_they_were() -> None:
    corpus = _ascii_corpus()
    assert len(corpus) > 300
    general = _tables().word
    for text in corpus:
        assert words(text) == _old_words(text), text
        # the Unicode pattern itself agrees on ASCII, so mixed texts split their ASCII alike
        assert general.findall(" ".join(text.casefold().split())) == _old_words(text), text
        assert [w for _, _, w in word_spans(text)] == _old_words(text), text


_OLD_CLAUSE_BREAK = re.compile(r",?\s+(?:and|but|while|whereas|which|so)\s+|[,;:]\s+")
_OLD_SENTENCE_END = re.compile(
    r"(?<=[.!?;])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*(?:[-*\u2022]|\d+[.)])?\s*")


def test_sentence_and_clause_breaks_of_ascii_text_are_unchanged() -> None:
    tricky = ["a , and b", "a,  and b ,but c", "x.  \n  Y", "e.g. A. b. (C", "1)  x\n2. y"]
    for text in _ascii_corpus() + tricky:
        assert ([m.span() for m in _CLAUSE_BREAK.finditer(text)]
                == [m.span() for m in _OLD_CLAUSE_BREAK.finditer(text)]), text
        assert ([m.span() for m in _tables().sentence_end.finditer(text)]
                == [m.span() for m in _OLD_SENTENCE_END.finditer(text)]), text


@pytest.mark.parametrize(("text", "expected"), [
    ("Стек хранит элементы", ["стек", "хранит", "элементы"]),
    ("naïve Café résumé", ["naïve", "café", "résumé"]),
    ("हिन्दी भाषा", ["हिन्दी", "भाषा"]),  # vowel signs are combining marks, inside the word
    ("栈是后进先出", ["栈是后进先出"]),  # no spaces: one run (a limit, README)
    ("ｆｕｌｌ ﬁne", ["full", "fine"]),  # NFKC
    ("wh\u200bat is a ten\u00adsor\u2060", ["what", "is", "a", "tensor"]),  # format chars
    ("x \ud800 y", ["x", "y"]),  # a lone surrogate is no word, and no error
])
def test_words_know_every_script_and_ignore_invisible_characters(text: str,
                                                                 expected: list[str]) -> None:
    assert words(text) == expected
    assert [w for _, _, w in word_spans(text)] == expected


def test_word_spans_point_at_the_raw_text() -> None:
    text = "Das Café wh\u200bat"
    assert [(text[a:b], w) for a, b, w in word_spans(text)] == [
        ("Das", "das"), ("Café", "café"), ("wh\u200bat", "what")]


def test_sentences_of_non_latin_text() -> None:
    assert split_sentences("Адам хранит средние. Он также масштабирует шаги.") == [
        "Адам хранит средние.", "Он также масштабирует шаги."]
