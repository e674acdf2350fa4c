"""From token vectors to the vectors scoring compares, without embedding anything twice.

A mean-pooling model's text vector is the mean of its token vectors, so pooling the tokens of
a span gives a vector for that span, computed in the context of the text around it ("late
chunking", Günther et al. 2024). The grader embeds each sentence of an answer once and pools
from its tokens the sentence, each of its clauses, each of those without the question's words
(question demoting, ``grader.alignment``), and the whole answer. Embedding each of those
separately would cost about three passes of the model. Sentences are not pooled from one pass
over the whole answer: a sentence's vector would then move with whatever else the answer says,
and appending unrelated text could raise a score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.text import STOP_WORDS, word_spans
from grader.vectors import TokenVectors


@dataclass(frozen=True)
class PooledText:
    """A text's vector, and for each of its passages (character ranges) a vector and a
    question-demoted vector."""

    whole: np.ndarray  # (dim,)
    passages: np.ndarray  # (passages, dim)
    demoted: np.ndarray  # (passages, dim); a zero row where a passage keeps no content word


def normalized_mean(vectors: np.ndarray) -> np.ndarray:
    """The L2-normalised mean of the rows; a zero vector for no rows."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    normalized: np.ndarray = (mean / norm if norm > 0 else mean).astype(np.float32)
    return normalized


def pool(text: str, tokens: TokenVectors, spans: list[tuple[int, int]],
         question_words: set[str] | frozenset[str]) -> PooledText:
    """Pool ``tokens`` of ``text`` into the whole text and each (start, end) character span.

    The whole text pools every token, start and end tokens included, as the model's own text
    vector does (exactly so when ``tokens`` come from one pass over ``text``). A span pools the
    tokens inside it; its demoted vector pools only the tokens of words that are neither stop
    words nor words of the question.
    """
    starts, ends = tokens.spans[:, 0], tokens.spans[:, 1]
    real = ends > starts  # start and end tokens cover no characters
    content_chars = np.zeros(len(text) + 1, dtype=np.int32)
    for start, end, word in word_spans(text):
        if word not in STOP_WORDS and word not in question_words:
            content_chars[start:end] = 1
    marked = np.concatenate([[0], np.cumsum(content_chars)])
    content = real & (marked[np.minimum(ends, len(text))] > marked[np.minimum(starts, len(text))])
    span_array = np.asarray(spans, dtype=np.int32).reshape(-1, 2)
    # rows: spans; columns: tokens; true where the token lies inside the span
    inside = real & (starts < span_array[:, 1:]) & (ends > span_array[:, :1])
    dimension = tokens.vectors.shape[1]
    return PooledText(
        whole=normalized_mean(tokens.vectors),
        passages=_normalized_sums(inside, tokens.vectors, dimension),
        demoted=_normalized_sums(inside & content, tokens.vectors, dimension),
    )


def _normalized_sums(membership: np.ndarray, vectors: np.ndarray, dimension: int) -> np.ndarray:
    """Per row of ``membership``, the L2-normalised sum (so also mean) of its member vectors."""
    sums = membership.astype(np.float32) @ vectors if len(membership) else np.zeros(
        (0, dimension), np.float32)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
