"""Pooling one pass of token vectors into the whole text, its spans and their content."""

from __future__ import annotations

import numpy as np

from grader.embedding import CachedEmbedder, EmbeddingCache, MemoryCachedEmbedder, TokenVectors
from grader.pooling import pool
from grader.text import clause_spans, sentence_spans
from tests.fakes import FakeEmbedder

TEXT = "Adam keeps averages. The step is scaled."


def tokens_for(text: str) -> TokenVectors:
    """One token per word with a distinct basis vector, plus two non-zero special tokens."""
    fake = FakeEmbedder(dimension=64)
    made = fake.embed_tokens([text])[0]
    vectors = made.vectors.copy()
    vectors[0, 0] = vectors[-1, 1] = 5.0  # start/end tokens that must stay out of the spans
    return TokenVectors(vectors=vectors, spans=made.spans)


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def test_whole_text_pools_every_token_and_spans_only_their_own() -> None:
    tokens = tokens_for(TEXT)
    first, second = sentence_spans(TEXT)
    pooled = pool(TEXT, tokens, [first, second], question_words=set())
    assert np.allclose(pooled.whole, unit(tokens.vectors.mean(axis=0)))
    assert np.allclose(pooled.passages[0], unit(tokens.vectors[1:4].sum(axis=0)))  # Adam keeps avg.
    assert np.allclose(pooled.passages[1], unit(tokens.vectors[4:8].sum(axis=0)))  # The step is...


def test_demoted_vector_drops_question_words_and_stop_words() -> None:
    tokens = tokens_for(TEXT)
    pooled = pool(TEXT, tokens, sentence_spans(TEXT), question_words={"adam", "step"})
    assert np.allclose(pooled.demoted[0], unit(tokens.vectors[2:4].sum(axis=0)))  # keeps averages
    assert np.allclose(pooled.demoted[1], unit(tokens.vectors[7]))  # scaled ("the", "is" are stop)


def test_a_span_with_nothing_left_after_demoting_is_a_zero_row() -> None:
    pooled = pool("Adam is.", tokens_for("Adam is."), [(0, 8)], question_words={"adam"})
    assert not pooled.demoted[0].any() and pooled.passages[0].any()


def test_sentences_and_clauses_are_slices_of_the_text() -> None:
    text = "  A stack stores items in order, and it removes the newest item first.\n- Short.  "
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "A stack stores items in order, and it removes the newest item first.\n- Short."]
    assert [text[a:b] for a, b in clause_spans(text, *spans[0])] == [
        "A stack stores items in order", "it removes the newest item first.\n- Short"]


def test_token_vectors_round_trip_through_the_cache(tmp_path) -> None:
    cached = CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path / "e.sqlite3"))
    first = cached.embed_tokens([TEXT, "other text", TEXT])
    again = CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path / "e.sqlite3"))
    second = again.embed_tokens([TEXT])
    assert cached.computed == 2 and again.computed == 0
    assert np.array_equal(first[0].vectors, second[0].vectors)
    assert np.array_equal(first[0].spans, second[0].spans)
    assert cached.embed(["whole"]).shape == (1, 256)  # a text vector is kept apart from tokens


def test_memory_cache_keeps_only_the_most_recent_texts() -> None:
    inner = FakeEmbedder()
    memory = MemoryCachedEmbedder(inner, capacity=2)
    memory.embed(["a", "b"])
    memory.embed(["a", "c"])  # "a" is recent again; "b" is dropped to stay within 2
    memory.embed(["a", "b"])
    assert inner.calls == [["a", "b"], ["c"], ["b"]]
    assert np.allclose(memory.embed(["b"]), inner.embed(["b"]))
