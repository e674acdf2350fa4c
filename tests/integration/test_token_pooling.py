"""One pass of the real model gives the same text vector as ``embed``, and covers long texts."""

from __future__ import annotations

import pytest

from grader import Grader
from grader.pooling import pool
from grader.text import sentence_spans

pytestmark = pytest.mark.integration


def test_pooled_tokens_are_the_models_own_text_vector(real_grader: Grader) -> None:
    texts = ["  Adam keeps a moving average of gradients. It also scales each step!  ", "x", ""]
    tokens = real_grader.embedder.embed_tokens(texts)
    vectors = real_grader.embedder.embed(texts)
    for text, token_vectors, vector in zip(texts, tokens, vectors, strict=True):
        whole = pool(text, token_vectors, [], set()).whole
        assert float(whole @ vector) == pytest.approx(1.0, abs=1e-5)
    first = tokens[0]
    covered = [texts[0][a:b] for a, b in first.spans if b > a]
    assert covered[:3] == ["Adam", "keeps", "a"] and covered[-1] == "!"


def test_a_text_longer_than_the_window_is_embedded_to_its_end(real_grader: Grader) -> None:
    sentence = "Gradient descent follows the negative gradient of the loss downhill. "
    text = sentence * 40 + "Finally, momentum smooths the updates."  # ~500 tokens, window 256
    tokens = real_grader.embedder.embed_tokens([text])[0]
    assert tokens.spans[:, 1].max() == len(text)  # the last sentence was embedded too
    last = sentence_spans(text)[-1]
    pooled = pool(text, tokens, [last], set())
    alone, unrelated = real_grader.embedder.embed([text[last[0] : last[1]], "Pasta with basil."])
    # pooled in a context about something else, it still says what the sentence alone says
    assert float(pooled.passages[0] @ alone) > float(pooled.passages[0] @ unrelated) + 0.3
