"""Value types for what an embedding model returns; a leaf module (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Vectors = np.ndarray  # shape (n, dim), float32, rows L2-normalised


@dataclass(frozen=True)
class TokenVectors:
    """One text's token vectors, as the model computed them before pooling.

    ``spans[i]`` is the (start, end) character range of token ``i`` in the text; special tokens
    (start and end of a window) have an empty range. The mean of all rows, L2-normalised, is the
    text's ``embed`` vector for mean-pooling models such as all-MiniLM-L6-v2.
    """

    vectors: np.ndarray  # (tokens, dim) float32, not normalised
    spans: np.ndarray  # (tokens, 2) int32

    def to_bytes(self) -> bytes:
        count = np.array([len(self.spans)], dtype=np.int32)
        return (count.tobytes() + self.spans.astype(np.int32).tobytes()
                + self.vectors.astype(np.float32).tobytes())

    @classmethod
    def from_bytes(cls, blob: bytes) -> TokenVectors:
        count = int(np.frombuffer(blob[:4], dtype=np.int32)[0])
        spans = np.frombuffer(blob[4 : 4 + 8 * count], dtype=np.int32).reshape(count, 2)
        vectors = np.frombuffer(blob[4 + 8 * count :], dtype=np.float32).reshape(count, -1)
        return cls(vectors=vectors, spans=spans)


def join_tokens(parts: Sequence[TokenVectors], offsets: Sequence[int], dimension: int
                ) -> TokenVectors:
    """Token vectors of pieces of one text, as one: each piece's spans shifted by its offset."""
    if not parts:
        return TokenVectors(np.zeros((0, dimension), np.float32), np.zeros((0, 2), np.int32))
    spans = [np.where(p.spans[:, 1:] > p.spans[:, :1], p.spans + offset, 0)
             for p, offset in zip(parts, offsets, strict=True)]
    return TokenVectors(vectors=np.concatenate([p.vectors for p in parts]).astype(np.float32),
                        spans=np.concatenate(spans).astype(np.int32))
