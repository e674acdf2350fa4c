"""Test doubles for the swappable parts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from grader.text import words


class FakeEmbedder:
    """Deterministic bag-of-words embedder: texts sharing words are similar. No model needed."""

    model_name = "fake-bag-of-words"

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                index = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
                vectors[row, index] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)
