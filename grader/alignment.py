"""Lexical evidence that whole-text embeddings blur: question demoting and word alignment.

Two ideas from the short-answer grading literature (Mohler et al. 2011; Sultan et al. 2016):

- **Question demoting.** Words that already occur in the question earn nothing: an answer that
  repeats "the testing stage influences..." has said nothing yet. ``content_words`` leaves them
  out, and ``grader.pooling`` pools a sentence's vector without their tokens.
- **Word alignment.** Each content word of the reference answer is aligned to its most similar
  content word of the answer (by embedding the words themselves); the share of reference words
  with a partner at least ``threshold`` similar is how much of the reference the answer says,
  in its own words or the reference's. The share of answer words aligned (precision) is
  mixed in a little, so that padding an answer with unrelated words does not pay.
"""

from __future__ import annotations

import numpy as np

from grader.text import words

#: Function words that carry no content of their own (a compact English list).
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either else etc even
ever every few for from further had has have having he her here hers herself him himself his
how however i if in into is it its itself just let like may me might more most much must my
myself no nor not now of off on once only or other our ours ourselves out over own per same
shall she should so some such than that the their theirs them themselves then there these they
this those through thus to too under until up upon us very via was we were what when where
whether which while who whom whose why will with within without would yet you your yours
yourself yourselves one ones thing things something way ways use used using get gets make makes
""".split())


def content_words(text: str, exclude: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Distinct non-stop-words of ``text`` in first-seen order, minus ``exclude``."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOP_WORDS and w not in exclude))


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
