"""Shared by the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.settings import get_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()  # the CLI reads settings once per process; tests vary them
    yield
    get_settings.cache_clear()
