"""numpy's BLAS threads while grading (GRADER_BLAS_THREADS)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import grader.embedders as embedders
import grader.onnx_embedding as onnx_embedding
from grader.embedders import limit_blas_threads
from grader.settings import Settings


def blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def restore_blas() -> Iterator[None]:
    np.ones(1) @ np.ones(1)  # numpy's BLAS is loaded
    limits = threadpool_limits(limits=None)  # only remembers the limits, to restore them
    yield
    limits.restore_original_limits()


@pytest.mark.usefixtures("restore_blas")
def test_blas_runs_on_one_thread_by_default_and_zero_leaves_it_alone() -> None:
    before = blas_threads()  # as many as the machine has cores, unless set otherwise
    limit_blas_threads(0)
    assert blas_threads() == before
    limit_blas_threads(Settings.defaults().blas_threads)
    assert blas_threads() == {1}


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_the_embedder_factory_limits_blas_before_building_a_backend(
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(embedders, "limit_blas_threads", calls.append)

    class Built(Exception):
        pass

    def fail(*args: object, **kwargs: object) -> None:
        raise Built

    monkeypatch.setattr(embedders, "SentenceTransformerEmbedder", fail)
    monkeypatch.setattr(onnx_embedding, "OnnxEmbedder", fail)
    with pytest.raises(Built):
        embedders.make_embedder(Settings(blas_threads=3, embedding_backend=backend))  # type: ignore[arg-type]
    assert calls == [3]
