"""One pass of the real model gives the same text vector as ``embed``, and covers long texts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import Grader
from grader.embedding import SentenceTransformerEmbedder
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


def test_texts_of_unlike_length_run_in_batches_of_their_own(
        torch_grader: Grader, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sentence of 40 tokens does not pad short ones to its length (``grader.padding``),
    and batching leaves each text's token vectors what embedding it alone gives."""
    embedder = getattr(torch_grader.embedder, "inner", torch_grader.embedder)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    model: Any = embedder._model
    encode, calls = model.encode, []

    def recording(texts: list[str], **kwargs: Any) -> Any:
        calls.append(list(texts))
        return encode(texts, **kwargs)

    monkeypatch.setattr(model, "encode", recording)
    long = ("Adam keeps a moving average of the gradient and divides each step by the root of "
            "a moving average of the squared gradient, so every weight gets its own step size.")
    texts = ["Yes.", long, "No.", long.replace("Adam", "AdamW")]
    batched = torch_grader.embedder.embed_tokens(texts)
    assert sorted(map(sorted, calls)) == [sorted(texts[1::2]), sorted(texts[0::2])]
    for text, tokens in zip(texts, batched, strict=True):
        alone = torch_grader.embedder.embed_tokens([text])[0]
        assert np.array_equal(tokens.spans, alone.spans)
        assert np.allclose(tokens.vectors, alone.vectors, atol=1e-5)
