"""The two embedding jobs of grading, each a small object that owns its cache.

- ``RubricVectorCache``: a rubric's texts are embedded once per rubric version (through the
  on-disk ``EmbeddingCache`` when one is given) and kept in memory.
- ``AnswerEncoder``: answers are embedded a sentence at a time, in passes of bounded size, and
  pooled into the vectors scoring compares; their words come from a bounded in-memory cache.
  Answers are never written to disk.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.embedding import CachedEmbedder, Embedder, EmbeddingCache, MemoryCachedEmbedder
from grader.evidence import AnswerParts, RubricVectors
from grader.pooling import PooledText, pool
from grader.rubric import Rubric
from grader.text import words
from grader.vectors import join_tokens

#: Characters of answers embedded in one call to the model (see ``AnswerEncoder.encode``).
CHARS_PER_PASS = 200_000


class RubricVectorCache:
    """Each rubric's ``RubricVectors``, by content hash, computed on first use."""

    def __init__(self, embedder: Embedder, disk_cache: EmbeddingCache | None = None) -> None:
        # Only rubric texts go through the disk cache; candidate answers are never stored.
        self._embedder: Embedder = (
            CachedEmbedder(embedder, disk_cache) if disk_cache else embedder
        )
        self._vectors: dict[str, RubricVectors] = {}
        self._lock = threading.Lock()

    def get(self, rubrics: Sequence[Rubric]) -> dict[str, RubricVectors]:
        """The vectors of each rubric, by ``content_hash``; missing ones are embedded together."""
        with self._lock:
            missing = {r.content_hash: r for r in rubrics if r.content_hash not in self._vectors}
        if missing:
            texts = [RubricVectors.texts(rubric) for rubric in missing.values()]
            flat = self._embedder.embed([text for group in texts for text in group])
            tokens = iter(self._embedder.embed_tokens(
                [ref for rubric in missing.values() for ref in rubric.reference_answers]))
            start, computed = 0, {}
            for (key, rubric), group in zip(missing.items(), texts, strict=True):
                computed[key] = RubricVectors.build(
                    rubric, flat[start : start + len(group)],
                    [next(tokens) for _ in rubric.reference_answers])
                start += len(group)
            with self._lock:
                self._vectors.update(computed)
        with self._lock:
            return {r.content_hash: self._vectors[r.content_hash] for r in rubrics}


@dataclass(frozen=True)
class EncodedAnswer:
    """An answer's pooled vectors, and a vector per content word (``AnswerParts.words``)."""

    pooled: PooledText
    word_vectors: np.ndarray  # (words, dim)


class AnswerEncoder:
    """Turns answers into the vectors evidence is gathered from, one model pass per group."""

    def __init__(self, embedder: Embedder, word_cache_size: int = 50_000) -> None:
        self._embedder = embedder
        self._words = MemoryCachedEmbedder(embedder, capacity=word_cache_size)

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
        pooled: list[PooledText] = []
        for group in _groups(answers):
            texts = [parts.answer[start:end] for parts, _ in group
                     for start, end in parts.sentences]
            tokens = iter(self._embedder.embed_tokens(texts) if texts else [])
            for parts, question in group:
                answer_tokens = join_tokens([next(tokens) for _ in parts.sentences],
                                            [start for start, _ in parts.sentences], dimension)
                pooled.append(pool(parts.answer, answer_tokens, parts.passages,
                                   set(words(question))))
        # Words repeat across answers, so their vectors come from a bounded in-memory cache.
        all_words = list(dict.fromkeys(word for parts, _ in answers for word in parts.words))
        word_vectors = (dict(zip(all_words, self._words.embed(all_words), strict=True))
                        if all_words else {})
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
