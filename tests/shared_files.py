"""Files some tests read from outside the repository, in ``../shared`` beside the clone.

Developers and CI have that folder; a user's clone does not, so a test that needs one of these
files asks for it through ``require`` and is skipped, saying which file and where it comes from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
#: The article the question bank was written from (``grader ingest``'s example document).
SOURCE_DOCUMENT = SHARED / "seeds" / "000_a8c25222877d68a1.txt"
#: The public Mohler et al. (2011) development split, never copied into the repository.
MOHLER_DEV = SHARED / "datasets" / "mohler-dev" / "mohler-dev.jsonl"


def require(path: Path, what: str) -> Path:
    """``path``, or skip the calling test with a reason naming ``what`` and where it belongs."""
    if not path.is_file():
        pytest.skip(f"{what} is not on this machine: expected {path} (../shared beside the "
                    "repository, which developers and CI have and a plain clone does not)")
    return path
