from __future__ import annotations

from pathlib import Path

import pytest

from grader import Grader
from tests.shared_files import MOHLER_DEV, require


@pytest.fixture
def cli_grader(real_grader: Grader, monkeypatch: pytest.MonkeyPatch) -> Grader:
    """``grader eval`` runs end to end, on the session's already-loaded real model."""
    from grader.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setattr(Grader, "from_settings", classmethod(lambda cls, s, **_: real_grader))
    yield real_grader
    get_settings.cache_clear()


@pytest.fixture
def mohler_dev() -> Path:
    return require(MOHLER_DEV, "the public development set mohler-dev")
