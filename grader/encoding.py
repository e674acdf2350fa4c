"""The two embedding jobs of grading, each a small object that owns its cache.

- ``RubricVectorCache``: a rubric's texts are embedded once per rubric version and kept in
  memory; the bank's through the on-disk ``EmbeddingCache`` when one is given, and kept for
  good; ad-hoc rubrics never touch the disk and only the most recently used are kept.
- ``AnswerEncoder``: answers are embedded a sentence at a time, in passes of bounded size, and
  pooled into the vectors scoring compares; their words come from a bounded in-memory cache.
  Answers are never written to disk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from grader.embedding import CachedEmbedder, Embedder, EmbeddingCache, MemoryCachedEmbedder
from grader.evidence import AnswerParts, RubricVectors
from grader.pooling import PooledText, normalized_mean, pool
from grader.rubric import Rubric
from grader.text import words
from grader.vectors import join_tokens
from grader.word_vectors import HasWordTable

#: Characters of answers embedded in one call to the model (see ``AnswerEncoder.encode``).
CHARS_PER_PASS = 200_000
#: Bytes of ad-hoc rubric vectors kept in memory, the most recently used. A typical ad-hoc
#: rubric takes tens of KB; one at every limit of ``grader.adhoc``, up to about 15 MB (its
#: reference words' vectors, mostly).
ADHOC_VECTOR_BYTES = 128 * 2**20


class RubricVectorCache:
    """Each rubric's ``RubricVectors``, by content hash, computed on first use.

    Rubrics whose content hash is in ``bank_hashes`` are the bank's: their texts go through
    ``disk_cache`` and their vectors stay in memory for good. Any other rubric (ad-hoc, or given
    directly) is embedded without the disk, so a client can neither fill the shared file nor
    plant entries in it, and only the most recently used stay in memory, up to
    ``adhoc_bytes`` of vectors.
    """

    def __init__(self, embedder: Embedder, disk_cache: EmbeddingCache | None = None, *,
                 bank_hashes: Iterable[str] = (), adhoc_bytes: int = ADHOC_VECTOR_BYTES
                 ) -> None:
        self._bank_embedder: Embedder = (
            CachedEmbedder(embedder, disk_cache) if disk_cache else embedder
        )
        self._embedder = embedder
        self._bank_hashes = frozenset(bank_hashes)
        self._bank: dict[str, RubricVectors] = {}
        self._adhoc: OrderedDict[str, tuple[RubricVectors, int]] = OrderedDict()
        self._adhoc_bytes, self._adhoc_limit = 0, adhoc_bytes
        self._lock = threading.Lock()

    def get(self, rubrics: Sequence[Rubric]) -> dict[str, RubricVectors]:
        """The vectors of each rubric, by ``content_hash``; missing ones are embedded together
        (the bank's apart from the others, which must not reach the disk cache)."""
        found: dict[str, RubricVectors] = {}
        with self._lock:
            for rubric in rubrics:
                key = rubric.content_hash
                if key in self._bank:
                    found[key] = self._bank[key]
                elif key in self._adhoc:
                    self._adhoc.move_to_end(key)
                    found[key] = self._adhoc[key][0]
        missing = {r.content_hash: r for r in rubrics if r.content_hash not in found}
        bank = {key: rubric for key, rubric in missing.items() if key in self._bank_hashes}
        adhoc = {key: rubric for key, rubric in missing.items() if key not in self._bank_hashes}
        for group, embedder in ((bank, self._bank_embedder), (adhoc, self._embedder)):
            if group:
                found.update(self._store(_embed(group, embedder), bank=group is bank))
        return {r.content_hash: found[r.content_hash] for r in rubrics}

    def _store(self, computed: dict[str, RubricVectors], *, bank: bool
               ) -> dict[str, RubricVectors]:
        with self._lock:
            if bank:
                self._bank.update(computed)
                return computed
            for key, vectors in computed.items():
                if key not in self._adhoc:
                    size = _nbytes(vectors)
                    self._adhoc[key] = (vectors, size)
                    self._adhoc_bytes += size
            # the oldest go first; what this call computed is returned even when evicted
            while self._adhoc_bytes > self._adhoc_limit and self._adhoc:
                self._adhoc_bytes -= self._adhoc.popitem(last=False)[1][1]
        return computed

    @property
    def adhoc_kept(self) -> tuple[int, int]:
        """(ad-hoc rubrics, bytes of their vectors) in memory now."""
        with self._lock:
            return len(self._adhoc), self._adhoc_bytes


def _nbytes(vectors: RubricVectors) -> int:
    """Bytes of the arrays a ``RubricVectors`` holds (its fields, and tuples of arrays)."""
    total = 0
    for item in fields(vectors):
        value = getattr(vectors, item.name)
        for array in value if isinstance(value, tuple) else (value,):
            total += array.nbytes if isinstance(array, np.ndarray) else 0
    return total


def _embed(rubrics: dict[str, Rubric], embedder: Embedder) -> dict[str, RubricVectors]:
    """Every rubric's vectors from one ``embed`` and one ``embed_tokens`` call."""
    texts = [RubricVectors.texts(rubric) for rubric in rubrics.values()]
    flat = embedder.embed([text for group in texts for text in group])
    tokens = iter(embedder.embed_tokens(
        [ref for rubric in rubrics.values() for ref in rubric.reference_answers]))
    start, computed = 0, {}
    for (key, rubric), group in zip(rubrics.items(), texts, strict=True):
        computed[key] = RubricVectors.build(
            rubric, flat[start : start + len(group)],
            [next(tokens) for _ in rubric.reference_answers])
        start += len(group)
    return computed


@dataclass(frozen=True)
class EncodedAnswer:
    """An answer's pooled vectors, and a vector per content word (``AnswerParts.words``)."""

    pooled: PooledText
    word_vectors: np.ndarray  # (words, dim)


class AnswerEncoder:
    """Turns answers into the vectors evidence is gathered from, one model pass per group.

    With an embedder that has a ``WordPieceTable`` (``grader.word_vectors``), content words are
    looked up there, and the words it does not know yet ride in the sentences' pass; without
    one, words are embedded in a call of their own, through a bounded in-memory cache.
    """

    def __init__(self, embedder: Embedder, word_cache_size: int = 50_000) -> None:
        self._embedder = embedder
        self._words = MemoryCachedEmbedder(embedder, capacity=word_cache_size)
        self._table = embedder.word_table if isinstance(embedder, HasWordTable) else None

    def encode(self, answers: Sequence[tuple[AnswerParts, str]], dimension: int
               ) -> list[EncodedAnswer]:
        """Encode each (answer parts, question) pair; ``dimension`` is the model's.

        Each sentence is embedded on its own, so what one sentence says does not colour
        another's vector (unrelated text appended as new sentences cannot lift the others); its
        clauses are pooled from its tokens. Sentences go to the model in groups of at most
        ``CHARS_PER_PASS`` characters: a large group sorts by length with little padding, and the
        token vectors held at once stay bounded (about 75 MB) however many or long the answers
        are.
        """
        all_words = list(dict.fromkeys(word for parts, _ in answers for word in parts.words))
        word_vectors: dict[str, np.ndarray] = {}
        if self._table is not None and all_words:
            word_vectors = self._table.lookup(all_words)[0]
        pooled: list[PooledText] = []
        for group in _groups(answers):
            texts = [parts.answer[start:end] for parts, _ in group
                     for start, end in parts.sentences]
            # Words the table lacks join the sentences' pass: a word's vector is the mean of
            # its tokens' vectors, L2-normalised, which is what embedding it alone gives.
            extra = ([] if self._table is None else list(dict.fromkeys(
                word for parts, _ in group for word in parts.words if word not in word_vectors)))
            tokens = iter(self._embedder.embed_tokens(texts + extra) if texts or extra else [])
            for parts, question in group:
                answer_tokens = join_tokens([next(tokens) for _ in parts.sentences],
                                            [start for start, _ in parts.sentences], dimension)
                pooled.append(pool(parts.answer, answer_tokens, parts.passages,
                                   set(words(question))))
            if self._table is not None and extra:
                fresh = {word: normalized_mean(next(tokens).vectors) for word in extra}
                self._table.remember(fresh)
                word_vectors.update(fresh)
        if self._table is None and all_words:
            # Words repeat across answers, so their vectors come from a bounded memory cache.
            word_vectors = dict(zip(all_words, self._words.embed(all_words), strict=True))
        return [
            EncodedAnswer(pooled=vectors, word_vectors=np.array(
                [word_vectors[word] for word in parts.words], dtype=np.float32
            ).reshape(-1, dimension))
            for (parts, _), vectors in zip(answers, pooled, strict=True)
        ]


def _groups(answers: Sequence[tuple[AnswerParts, str]]) -> list[list[tuple[AnswerParts, str]]]:
    """Consecutive answers in groups of at most ``CHARS_PER_PASS`` characters (at least one)."""
    groups: list[list[tuple[AnswerParts, str]]] = [[]]
    size = 0
    for entry in answers:
        if groups[-1] and size + len(entry[0].answer) > CHARS_PER_PASS:
            groups.append([])
            size = 0
        groups[-1].append(entry)
        size += len(entry[0].answer)
    return groups
