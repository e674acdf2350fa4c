from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# ``source_document`` (../shared/seeds, skipped without it) is in tests/conftest.py.


@pytest.fixture(scope="session")
def markdown_fixture() -> Path:
    return FIXTURES / "training_faq.md"
