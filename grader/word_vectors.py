"""Word vectors without a model call per word: a table of the vocabulary's own vectors.

Word alignment (``grader.alignment``) compares each content word of an answer with the
reference's, each word embedded alone as a text. Most words (92% of the words of the Mohler
answers, 83% of the bank's labeled answers) are one piece of the tokenizer's vocabulary, and a
one-piece word always reaches the model as the same three tokens ([CLS] word [SEP]), so its
vector is one row per vocabulary entry: a ``WordPieceTable``. Its rows come from a file that
``grader models prepare`` or ``Grader.warm_up`` (which ``grader serve`` runs at start) builds
once (every one-piece word of the vocabulary, about 23,500), or else fill in memory as words
are first seen; the table never grows past the vocabulary. Words of several pieces are kept
in a bounded memory cache instead. Either way, a word not yet known is embedded in the same
pass as the answer's sentences, never in a call of its own (``grader.encoding.AnswerEncoder``),
and answers' words are never written to disk.

The file depends on the model and the backend (``Embedder.model_name``) and on the model's
files; its name carries both. It is written whole under a temporary name, then renamed.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from grader.embedding import Embedder
from grader.vectors import TokenVectors, Vectors

#: Vocabulary entries embedded per ``embed`` call while the table file is built.
BUILD_CHUNK = 2048
_WHOLE_WORD = re.compile(r"[^\W_]+")  # letters and digits: not [UNK], [CLS] or ##ing


class WordPieceTable:
    """Vectors of words as the model embeds each alone: one row per one-piece word of the
    vocabulary, and the latest ``cache_size`` words of several pieces.

    Thread-safe: rows are written under a lock and never change once written.
    """

    def __init__(self, embedder: Embedder, tokenizer: Any, path: Path, *,
                 cache_size: int = 50_000, progress: Callable[[str], None] | None = None
                 ) -> None:
        self._embedder = embedder
        self._tokenizer = tokenizer
        self._path = Path(path)
        self._progress = progress
        self._cache_size = cache_size
        self._vectors: np.ndarray | None = None  # (vocabulary, dim); zero pages until written
        self._have = np.zeros(int(tokenizer.get_vocab_size()), dtype=bool)
        # Rows only for entries that are whole words: never [UNK], which stands for any word
        # the vocabulary lacks, nor word pieces (##ing) or other special tokens.
        self._words = np.zeros(len(self._have), dtype=bool)
        for token, index in tokenizer.get_vocab().items():
            if 0 <= index < len(self._words) and _WHOLE_WORD.fullmatch(token):
                self._words[index] = True
        self._loaded = False
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()  # words of several pieces
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def lookup(self, words: Sequence[str]) -> tuple[dict[str, np.ndarray], list[str]]:
        """({word: vector} for the words known, [the other words] in order)."""
        ids = self._one_piece_ids(words)
        known: dict[str, np.ndarray] = {}
        others: list[str] = []
        with self._lock:
            self._load()
            for word, index in zip(words, ids, strict=True):
                if index >= 0 and self._have[index] and self._vectors is not None:
                    known[word] = self._vectors[index]
                elif index < 0 and word in self._recent:
                    self._recent.move_to_end(word)
                    known[word] = self._recent[word]
                else:
                    others.append(word)
        return known, others

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep the vectors of words just embedded (each alone, or pooled as if alone)."""
        words = list(vectors)
        ids = self._one_piece_ids(words)
        with self._lock:
            for word, index in zip(words, ids, strict=True):
                if index >= 0:
                    self._put(index, vectors[word])
                else:
                    self._recent[word] = vectors[word]
            while len(self._recent) > self._cache_size:
                self._recent.popitem(last=False)

    def prepare(self) -> Path:
        """Build the table file if it is missing (``grader models prepare``), and load it.
        Where the file cannot be written, the table is kept in memory, and a line says so."""
        built = None if self._path.is_file() else self._build()
        with self._lock:
            self._loaded = False
            self._load()
            if built is not None and not self._path.is_file():
                for index, vector in zip(*built, strict=True):
                    self._put(int(index), vector)
        return self._path

    def _one_piece_ids(self, words: Sequence[str]) -> list[int]:
        """Each word's vocabulary id when it is one whole-word entry, else -1."""
        encoded = self._tokenizer.encode_batch(list(words), add_special_tokens=False)
        return [e.ids[0] if len(e.ids) == 1 and 0 <= e.ids[0] < len(self._words)
                and self._words[e.ids[0]] else -1 for e in encoded]

    def _put(self, index: int, vector: np.ndarray) -> None:
        """Write one row; call with the lock held."""
        if self._vectors is None:
            self._vectors = np.zeros((len(self._have), len(vector)), dtype=np.float32)
        self._vectors[index] = vector
        self._have[index] = True

    def _load(self) -> None:
        """Read the table file once, if there is one; call with the lock held."""
        if self._loaded:
            return
        self._loaded = True
        if self._path.is_file():
            with np.load(self._path) as stored:
                for index, vector in zip(stored["ids"], stored["vectors"], strict=True):
                    self._put(int(index), vector)

    def _build(self) -> tuple[np.ndarray, np.ndarray]:
        """Embed every vocabulary entry that is a whole word of one piece; write the file.
        Returns the rows (ids, vectors)."""
        vocabulary = self._tokenizer.get_vocab()
        candidates = sorted((token, index) for token, index in vocabulary.items()
                            if _WHOLE_WORD.fullmatch(token))
        found_ids = self._one_piece_ids([token for token, _ in candidates])
        entries = [(token, index) for (token, index), found
                   in zip(candidates, found_ids, strict=True) if found == index]
        say = self._progress or _to_stderr
        say(f"grader: building the word-vector table of {self._embedder.model_name} "
            f"({len(entries):,} words, once): {self._path}")
        started = time.perf_counter()
        texts = [token for token, _ in entries]
        vectors = np.concatenate([self._embedder.embed(texts[first : first + BUILD_CHUNK])
                                  for first in range(0, len(texts), BUILD_CHUNK)]
                                 ).astype(np.float32)
        ids = np.array([index for _, index in entries], dtype=np.int64)
        try:
            self._write(ids, vectors)
        except OSError as error:
            say(f"grader: could not write the word-vector table ({error}); it is kept in "
                "memory for this process only")
        say(f"grader: word-vector table ready in {time.perf_counter() - started:.0f} s")
        return ids, vectors

    def _write(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """The table file, whole or not at all: written under a temporary name, renamed."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=".build-",
                                             suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, ids=ids, vectors=vectors)
            os.replace(temporary, self._path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


@runtime_checkable
class HasWordTable(Protocol):
    """An ``Embedder`` that also looks up word vectors in a ``WordPieceTable``."""

    @property
    def word_table(self) -> WordPieceTable: ...


class WordTableEmbedder:
    """An ``Embedder`` with a ``WordPieceTable`` of its own vectors; embeds through ``inner``."""

    def __init__(self, inner: Embedder, table: WordPieceTable) -> None:
        self.inner = inner
        self._table = table

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def word_table(self) -> WordPieceTable:
        return self._table

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed(texts)

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        return self.inner.embed_tokens(texts)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
