from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: CI clones the repo beside the shared folder, so the source document is at ../shared/seeds.
SOURCE_DOCUMENT = REPO.parent / "shared" / "seeds" / "000_a8c25222877d68a1.txt"


@pytest.fixture(scope="session")
def source_document() -> Path:
    if not SOURCE_DOCUMENT.is_file():
        pytest.skip(f"source document not found at {SOURCE_DOCUMENT} (expected ../shared/seeds "
                    "beside the repository)")
    return SOURCE_DOCUMENT


@pytest.fixture(scope="session")
def markdown_fixture() -> Path:
    return FIXTURES / "training_faq.md"
