from __future__ import annotations

from pathlib import Path

import pytest

from grader import Grader

REPO = Path(__file__).resolve().parents[2]
INHOUSE = REPO / "eval" / "inhouse.jsonl"
PARAPHRASES = REPO / "eval" / "paraphrases.jsonl"
MOHLER_DEV = REPO.parent / "shared" / "datasets" / "mohler-dev" / "mohler-dev.jsonl"


@pytest.fixture
def cli_grader(real_grader: Grader, monkeypatch: pytest.MonkeyPatch) -> Grader:
    """``grader eval`` runs end to end, on the session's already-loaded real model."""
    from grader.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setattr(Grader, "from_settings", classmethod(lambda cls, s: real_grader))
    yield real_grader
    get_settings.cache_clear()


@pytest.fixture
def mohler_dev() -> Path:
    if not MOHLER_DEV.exists():
        pytest.skip(f"the public development set is not on this machine ({MOHLER_DEV})")
    return MOHLER_DEV
