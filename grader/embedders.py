"""The embedder the settings ask for: the torch or the ONNX backend, with its word table.

``make_embedder(settings)`` is the one place that picks the backend
(``GRADER_EMBEDDING_BACKEND``, ``chosen_backend``) and sets numpy's BLAS threads
(``GRADER_BLAS_THREADS``). Both backends get a ``WordPieceTable`` of their own vectors
(``grader.word_vectors``) when the model folder has a ``tokenizer.json``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from grader.embedding import Embedder, SentenceTransformerEmbedder, resolve_model_path
from grader.errors import ConfigurationError, MissingExtraError
from grader.onnx_export import fingerprint
from grader.settings import Settings
from grader.word_vectors import WordPieceTable, WordTableEmbedder

logger = logging.getLogger("grader")


def make_embedder(settings: Settings, *, progress: Callable[[str], None] | None = None
                  ) -> Embedder:
    """The configured embedding backend. The ONNX model and the word table are built at
    first use, with a line on stderr (or to ``progress``); ``grader models prepare`` builds
    them ahead of time."""
    limit_blas_threads(settings.blas_threads)
    if chosen_backend(settings) == "onnx":
        if settings.embedding_device != "cpu":
            raise ConfigurationError(
                f"GRADER_EMBEDDING_BACKEND=onnx runs on the CPU; GRADER_EMBEDDING_DEVICE is "
                f"{settings.embedding_device!r}. Use GRADER_EMBEDDING_BACKEND=torch for a GPU, "
                "or GRADER_EMBEDDING_DEVICE=cpu.")
        from grader.onnx_embedding import OnnxEmbedder

        onnx = OnnxEmbedder(settings.embedding_model, cache_dir=Path(settings.cache_dir),
                            precision=settings.embedding_onnx_precision,
                            batch_size=settings.embedding_batch_size,
                            threads=settings.embedding_threads, progress=progress)
        return _with_table(onnx, onnx.tokenizer, settings, progress)
    torch = SentenceTransformerEmbedder(settings.embedding_model,
                                        device=settings.embedding_device,
                                        batch_size=settings.embedding_batch_size)
    return _with_table(torch, _tokenizer(settings.embedding_model), settings, progress)


def chosen_backend(settings: Settings) -> Literal["torch", "onnx"]:
    """The backend that embeds: the one set, or for ``auto`` onnx on the CPU (at fp32 it gives
    torch's grades, about twice as fast: README, "Embedding backends") and torch on any other
    device, or for a model the onnx backend cannot read."""
    if settings.embedding_backend != "auto":
        return settings.embedding_backend
    if settings.embedding_device != "cpu":
        return "torch"
    from grader.onnx_embedding import unsupported_reason

    reason = unsupported_reason(settings.embedding_model)
    if reason is not None:
        logger.info("embedding with torch: %s", reason)
        return "torch"
    return "onnx"


def limit_blas_threads(threads: int) -> None:
    """numpy's BLAS on at most ``threads`` threads, for the whole process (0: as it is).

    OpenBLAS keeps its threads spinning for a while after each product. On a small machine
    they take the cores from the model's threads (torch's OpenMP pool, ONNX Runtime's), and
    one short answer over HTTP took 121 ms at the median instead of 35 (README, "Speed").
    The products numpy does while grading are small, so one thread costs them little.
    """
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")


def word_table_path(model_name: str, model: str, cache_dir: Path) -> Path:
    """Where the word table of an embedder (``model_name``: model and backend) is kept."""
    folder = Path(resolve_model_path(model))
    name = re.sub(r"[^A-Za-z0-9._+-]+", "-", model_name)
    return Path(cache_dir) / "word-vectors" / f"{name}-{fingerprint(folder)}.npz"


def _with_table(embedder: Embedder, tokenizer: object | None, settings: Settings,
                progress: Callable[[str], None] | None) -> Embedder:
    if tokenizer is None or not settings.embedding_word_table:
        return embedder
    path = word_table_path(embedder.model_name, settings.embedding_model, settings.cache_dir)
    return WordTableEmbedder(embedder, WordPieceTable(embedder, tokenizer, path,
                                                      progress=progress))


def _tokenizer(model: str) -> object | None:
    """The model's fast tokenizer (``tokenizer.json``), or None when it has none locally."""
    path = Path(resolve_model_path(model)) / "tokenizer.json"
    if not path.is_file():
        return None
    try:
        from tokenizers import Tokenizer
    except ImportError as error:  # pragma: no cover - sentence-transformers depends on it
        raise MissingExtraError("The word-vector table", "onnx", error) from error
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer
