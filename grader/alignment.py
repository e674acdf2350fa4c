"""Lexical evidence that whole-text embeddings blur: question demoting and word alignment.

Two ideas from the short-answer grading literature (Mohler et al. 2011; Sultan et al. 2016):

- **Question demoting.** Words that already occur in the question earn nothing: an answer that
  repeats "the testing stage influences..." has said nothing yet. ``content_words`` leaves them
  out (``grader.text``), and ``grader.pooling`` pools a sentence's vector without their tokens.
- **Word alignment.** Each content word of the reference answer is aligned to its most similar
  content word of the answer (by embedding the words themselves); the share of reference words
  with a partner at least ``threshold`` similar is how much of the reference the answer says,
  in its own words or the reference's. The share of answer words aligned (precision) is
  mixed in a little, so that padding an answer with unrelated words does not pay.
"""

from __future__ import annotations

import numpy as np


def alignment(reference_words: np.ndarray, answer_words: np.ndarray, threshold: float
              ) -> tuple[float, float]:
    """(recall, precision): the share of reference words with an answer word at least
    ``threshold`` similar, and the share of answer words with such a reference word.

    Each aligned word counts its similarity, so a near-synonym counts a little less than the
    same word. Precision is what keeps padding from paying: words added to an answer can only
    raise recall, but unrelated ones lower precision. Rows are L2-normalised word vectors; an
    empty side gives (0, 0).
    """
    if len(reference_words) == 0 or len(answer_words) == 0:
        return 0.0, 0.0
    similarity = reference_words @ answer_words.T
    recall_best, precision_best = similarity.max(axis=1), similarity.max(axis=0)
    return (float(np.where(recall_best >= threshold, recall_best, 0.0).mean()),
            float(np.where(precision_best >= threshold, precision_best, 0.0).mean()))
