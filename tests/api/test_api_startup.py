"""Start-up: the grader loads once, in the lifespan; ``grader serve`` checks settings first."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from grader import Grader
from grader.cli import main


def test_the_grader_loads_once_in_the_lifespan_not_at_creation(
        monkeypatch: pytest.MonkeyPatch, fake_grader: Grader) -> None:
    loads: list[object] = []

    def from_settings(settings: object) -> Grader:
        loads.append(settings)
        return fake_grader

    monkeypatch.setattr(Grader, "from_settings", staticmethod(from_settings))
    app = create_app(api_settings=ApiSettings())
    assert loads == []
    with TestClient(app) as client:
        for _ in range(3):
            assert client.post("/v1/grade", json={"question_id": "adam-optimizer",
                                                  "answer": "momentum"}).status_code == 200
    assert len(loads) == 1


def test_serve_rejects_bad_settings_before_starting(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "0"]) == 3
    assert "--workers must be at least 1" in capsys.readouterr().err
    monkeypatch.setenv("GRADER_BATCH_MAX_ITEMS", "lots")
    assert main(["serve"]) == 3
    assert "GRADER_BATCH_MAX_ITEMS" in capsys.readouterr().err
