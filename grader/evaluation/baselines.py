"""The two baselines every evaluation reports beside the grader, computed in the same run.

Both compare the whole answer with the closest reference answer and nothing else, which is
what the published "cosine" baselines on short-answer grading do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grader.embedding import Embedder


def tfidf_cosine(answers: Sequence[str], references: Sequence[Sequence[str]]) -> np.ndarray:
    """Cosine of tf-idf vectors (fitted, unsupervised, on this dataset's texts); best reference."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = list(dict.fromkeys([*answers, *(r for refs in references for r in refs)]))
    vectorizer = TfidfVectorizer(sublinear_tf=True, lowercase=True).fit(corpus)
    answer_vectors = vectorizer.transform(list(answers))
    scores = np.zeros(len(answers))
    for index, refs in enumerate(references):
        similarity = answer_vectors[index] @ vectorizer.transform(list(refs)).T
        scores[index] = float(similarity.toarray().max()) if similarity.nnz else 0.0
    return scores


def embedding_cosine(embedder: Embedder, answers: Sequence[str],
                     references: Sequence[Sequence[str]]) -> np.ndarray:
    """Cosine of the whole answer's embedding with the closest reference answer's embedding."""
    unique_refs = list(dict.fromkeys(r for refs in references for r in refs))
    ref_vectors = dict(zip(unique_refs, embedder.embed(unique_refs), strict=True))
    answer_vectors = embedder.embed(list(answers))
    return np.array([
        float(max(ref_vectors[r] @ vector for r in refs))
        for vector, refs in zip(answer_vectors, references, strict=True)
    ])
