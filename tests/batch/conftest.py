from __future__ import annotations

import pytest
from batch_files import MAX_ANSWER_CHARS
from fakes import FakeEmbedder

from grader import Grader, QuestionBank, Settings


@pytest.fixture
def fake_grader(bank: QuestionBank) -> Grader:
    """The real question bank with a bag-of-words embedder: fast and deterministic."""
    return Grader(bank, FakeEmbedder(), settings=Settings(max_answer_chars=MAX_ANSWER_CHARS))
