from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader import Grader, QuestionBank, ScoringConfig, Settings
from tests.fakes import MAX_ANSWER_CHARS, FakeEmbedder
from tests.shared_files import REPO, SOURCE_DOCUMENT, require

RUBRICS = REPO / "rubrics"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's LLM keys or grader settings."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "GRADER_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def bank() -> QuestionBank:
    return QuestionBank.from_dir(RUBRICS)


@pytest.fixture
def fake_grader(bank: QuestionBank) -> Grader:
    """The real question bank with a bag-of-words embedder: fast and deterministic.

    Its answer limit is ``tests.fakes.MAX_ANSWER_CHARS``, small enough to send an answer over it.
    The learned judge and the score calibration were fitted on the real model's vectors, so
    with bag-of-words vectors the grader judges by strength thresholds and reports the raw
    score: tests/test_judge.py and the integration tests exercise the judge.
    """
    return Grader(bank, FakeEmbedder(), settings=Settings(
        max_answer_chars=MAX_ANSWER_CHARS,
        scoring=ScoringConfig(offline_judge=False, calibrate_score=False)))


@pytest.fixture(scope="session")
def source_document() -> Path:
    return require(SOURCE_DOCUMENT, "the source document of the question bank")


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grader-cache")


@pytest.fixture(scope="session")
def real_grader(bank: QuestionBank, model_cache_dir: Path) -> Grader:
    """The real embedding model on the default backend (ONNX on a CPU), loaded once for the
    whole session."""
    return Grader.from_settings(Settings(rubrics_dir=RUBRICS, cache_dir=model_cache_dir))


@pytest.fixture(scope="session")
def torch_grader(bank: QuestionBank, model_cache_dir: Path) -> Grader:
    """The real embedding model on the torch backend (the one for GPUs), loaded once."""
    return Grader.from_settings(Settings(rubrics_dir=RUBRICS, cache_dir=model_cache_dir,
                                         embedding_backend="torch"))
