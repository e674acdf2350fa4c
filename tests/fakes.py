"""Test doubles for the swappable parts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from grader.embedding import TokenVectors
from grader.text import word_spans, words

#: The answer limit of the ``fake_grader`` fixture: small enough to send an answer over it.
MAX_ANSWER_CHARS = 2_000


class FakeEmbedder:
    """Deterministic bag-of-words embedder: texts sharing words are similar. No model needed."""

    model_name = "fake-bag-of-words"

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.calls: list[list[str]] = []  # texts of each ``embed`` call
        self.token_calls: list[list[str]] = []  # texts of each ``embed_tokens`` call

    def before_embedding(self, texts: Sequence[str]) -> None:
        """Called first by ``embed`` and ``embed_tokens``: a subclass fails or waits here."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.before_embedding(texts)
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                vectors[row] += self._word(word)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """One token per word, plus zero start and end tokens, like the real model's layout."""
        self.before_embedding(texts)
        self.token_calls.append(list(texts))
        results = []
        for text in texts:
            found = word_spans(text)
            zero = np.zeros(self.dimension, dtype=np.float32)
            results.append(TokenVectors(
                vectors=np.array([zero, *(self._word(w) for _, _, w in found), zero],
                                 dtype=np.float32),
                spans=np.array([(0, 0), *((a, b) for a, b, _ in found), (0, 0)], dtype=np.int32),
            ))
        return results

    def _word(self, word: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] = 1.0
        return vector


#: The word that makes ``PoisonEmbedder`` fail.
POISON = "zzpoison"


class PoisonEmbedder(FakeEmbedder):
    """Fails the way the real tokenizer does on a lone surrogate: a ``TypeError`` for the whole
    call when any text in it holds ``POISON``."""

    def before_embedding(self, texts: Sequence[str]) -> None:
        if any(POISON in text for text in texts):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
