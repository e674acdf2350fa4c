"""Property-based tests of the text helpers and the injection scanner (issue 16, "Beyond the
list"): arbitrary Unicode, control and format characters, lone surrogates, huge and empty
values. Invariants: no exception escapes; spans are slices of the input, in order; the fence
around an answer holds; time grows linearly with the input (a ratio of two sizes, never a
time limit)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.adhoc import derive_criteria
from grader.llm.injection import fold_confusables, scan_injection
from grader.llm.prompt import OPEN_MARK, fence_answer, neutralise
from grader.text import (
    clause_spans,
    content_words,
    normalize,
    sentence_spans,
    slugify,
    split_clauses,
    split_sentences,
    strip_invisible,
    token_overlap,
    word_spans,
    words,
)
from tests.linear_time import assert_linear

# Pieces that steer the regexes into their edge cases, mixed with arbitrary characters.
PIECES = [
    " ", "  ", "\n", "\t", "\r\n", ",", ", ", ";", ":", ".", ". ", "!", "?", "and", " and ",
    " which ", "so", "e.g.", "i.e.", "etc.", "A", "Z", "a", "1", "1.", "1)", "-", "*", "\u2022",
    "'", "\"", "(", "[", "it's", "Adam", "\u200b", "\u00ad", "\u2060", "\ufeff", "\u202e",
    "\u2063", "\ud800", "\udfff", "\x00", "\x1b", "\x7f", "\x85", "\u0301", "\u093f", "é", "ﬁ",
    "ｆ", "Ｉ", "＜", "｜", "﹤", "［", "中", "。", "П", "р", "ο", "<", ">", "|", "<<<", ">>>",
    "<|", "|>", "[INST]", "<<SYS>>", "ignore", "all previous instructions", "full marks",
    "candidate answer", "system:", "\"score\": 10", "\U0001f600", "\U000e0041", "\u0600",
]
CHARACTERS = st.characters(codec=None, exclude_categories=())  # surrogates included
ANY_TEXT = st.one_of(
    st.text(CHARACTERS, max_size=200),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(CHARACTERS, max_size=3)),
             max_size=60).map("".join),
    st.text(st.characters(categories=["Cc", "Cf", "Cs", "Mn", "Zs", "Zl", "Zp"]), max_size=40),
)
HUGE_TEXT = st.builds(lambda piece, times: piece * times,
                      st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join),
                      st.integers(min_value=2_000, max_value=8_000))

PROPERTIES = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow])
HUGE = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])


def _check_spans(spans: list[tuple[int, int]], start: int, end: int) -> None:
    previous = start
    for left, right in spans:
        assert previous <= left < right <= end
        previous = right


def _check_text_helpers(text: str) -> None:
    spans = sentence_spans(text)
    _check_spans(spans, 0, len(text))
    assert split_sentences(text) == [text[a:b] for a, b in spans]
    for a, b in spans:
        _check_spans(clause_spans(text, a, b), a, b)
    assert split_clauses(text) == [text[a:b] for a, b in clause_spans(text, 0, len(text))] \
        or not text
    found = words(text)
    assert all(word and not any(c.isspace() for c in word) for word in found)
    assert all(unicodedata.category(c) != "Cf" for word in found for c in word)
    located = word_spans(text)
    _check_spans(sorted({(a, b) for a, b, _ in located}), 0, len(text))
    assert all(word for _, _, word in located)
    normalized = normalize(text)
    assert normalized == normalized.strip() and "  " not in normalized
    assert strip_invisible(text, as_space=True).count(" ") >= text.count(" ")
    content_words(text)
    assert 0.0 <= token_overlap(text, text[::-1]) <= 1.0
    assert slugify(text)
    if words(text):
        assert derive_criteria(text)


def _check_injection_helpers(text: str) -> None:
    scan = scan_injection(text)
    assert isinstance(scan.suspected, bool)
    for quote in (normalize(text), normalize(text[: len(text) // 2]), "x", ""):
        scan.taints(quote)
    fold_confusables(text)
    neutralised = neutralise(text)
    neutralised.encode("utf-8")  # what the request to the LLM will carry
    fenced = "".join(c for c in fence_answer(text) if unicodedata.category(c) != "Cf")
    # the answer cannot open or close the fence: only the two real markers remain
    assert fenced.count("<<<") == 2 and fenced.count(">>>") == 2
    assert fenced.startswith(OPEN_MARK)


@PROPERTIES
@given(ANY_TEXT)
def test_text_helpers_never_raise_and_keep_their_invariants(text: str) -> None:
    _check_text_helpers(text)


@PROPERTIES
@given(ANY_TEXT)
def test_injection_helpers_never_raise_and_the_fence_holds(text: str) -> None:
    _check_injection_helpers(text)


@HUGE
@given(HUGE_TEXT)
def test_huge_inputs(text: str) -> None:
    _check_text_helpers(text)
    _check_injection_helpers(text)


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\u200b", "\ud800", "\x00" * 3, "."])
def test_empty_and_blank_values(text: str) -> None:
    _check_text_helpers(text)
    _check_injection_helpers(text)
    assert words(text) == []


# Inputs built from one repeated piece: the shapes that make a backtracking regex slow.
REPEATED = {
    "spaces": " ", "newlines": "\n", "space-newline": " \n", "commas": ",", "comma-space": ", ",
    "and": " and", "dots": ".", "dot-space": ". ", "quotes": "\"", "angles": "<", "bars": "<|",
    "ignore": "ignore ", "give-full": "give full ", "mark-all": "mark all each ",
    "zero-width": "ign\u200bore ", "cyrillic": "іgnоrе ", "fullwidth": "ｉｇｎｏｒｅ ",
    "status": "\"status\" ", "ten-slash": "10/", "system-colon": " system", "marks": "a\u0301",
    "heading-hashes": "# a ",
}


@pytest.mark.parametrize("piece", REPEATED.values(), ids=REPEATED.keys())
@pytest.mark.parametrize("helper", [
    lambda text: clause_spans(text, 0, len(text)), sentence_spans, words, word_spans,
    scan_injection, neutralise,
], ids=["clauses", "sentences", "words", "word_spans", "scan_injection", "neutralise"])
def test_time_is_linear_in_the_input(piece: str, helper: Callable[[str], object]) -> None:
    assert_linear(helper, lambda size: "x " + piece * (size // len(piece)) + " y")
