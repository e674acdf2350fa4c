"""The grader the commands use: checks that need no model first, the model only to grade.

Loading the embedding model takes seconds, so a command checks what it can without it (a
question id, an answer's length) with ``checker``, and loads the model with ``load_grader``
only when it grades. Loading keeps the libraries' progress bars and advice off stderr, which
is the command's own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from grader.bank import QuestionBank
from grader.grading import Grader
from grader.settings import Settings
from grader.vectors import TokenVectors


def load_grader(settings: Settings, bank: QuestionBank | None = None) -> Grader:
    """``Grader.from_settings``, quietly: no "Loading weights" bar, no library warnings.
    ``bank``: the bank a ``checker`` already loaded, so it is not read twice."""
    quiet_libraries()
    return Grader.from_settings(settings, bank=bank)


def checker(settings: Settings) -> Grader:
    """A grader without a model, for the checks that need none (``resolve``, ``check_answer``);
    it cannot grade."""
    return Grader(QuestionBank.from_dir(settings.rubrics_dir), _NoModel(), settings=settings)


def quiet_libraries() -> None:
    """Turn off transformers' and huggingface_hub's progress bars and advisory messages."""
    for name in ("transformers", "sentence_transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:  # the ONNX backend alone: nothing to quiet
        return
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


class _NoModel:
    """An embedder that refuses: a ``checker`` never gets as far as embedding."""

    model_name = "none"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("a checker grader has no model; use load_grader to grade")

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        raise RuntimeError("a checker grader has no model; use load_grader to grade")
