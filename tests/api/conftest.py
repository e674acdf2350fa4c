"""Fixtures for the API tests: apps built around a fast FakeEmbedder-backed grader."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from grader import Grader

ClientFactory = Callable[..., Any]


@pytest.fixture
def make_client(fake_grader: Grader) -> Iterator[ClientFactory]:
    """``with make_client(api_keys="k") as client:``: a TestClient with the lifespan running."""

    @contextmanager
    def factory(**api_settings: Any) -> Iterator[TestClient]:
        app = create_app(fake_grader, api_settings=ApiSettings(**api_settings))
        with TestClient(app) as client:
            yield client

    yield factory


@pytest.fixture
def client(make_client: ClientFactory) -> Iterator[TestClient]:
    with make_client() as client:
        yield client
