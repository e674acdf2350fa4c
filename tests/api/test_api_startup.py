"""Start-up: the grader loads once, in the lifespan; ``grader serve`` checks settings first."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from grader import Grader
from grader.cli import main
from tests.servers import free_port


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


@pytest.mark.parametrize("value", [",", " , ,", ""])
def test_api_keys_set_but_empty_are_refused_at_start_up(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str) -> None:
    """Issue 16, L7: GRADER_API_KEYS="," turned authentication off without a word."""
    monkeypatch.setenv("GRADER_API_KEYS", value)
    assert main(["serve"]) == 3
    err = capsys.readouterr().err
    assert "GRADER_API_KEYS" in err and "holds no key" in err and "unset it" in err
    with pytest.raises(ValueError, match="holds no key"):
        ApiSettings(api_keys=value)
    assert ApiSettings(api_keys="a-key, ").auth_enabled
    monkeypatch.delenv("GRADER_API_KEYS")
    assert not ApiSettings().auth_enabled


def test_serve_gives_uvicorn_the_deadlines_and_the_connection_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16, M1: no deadline and no concurrency limit reached uvicorn (slowloris)."""
    import uvicorn

    from api.protocol import DeadlineH11Protocol

    given: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: given.update(options))
    monkeypatch.setenv("GRADER_LIMIT_CONCURRENCY", "32")
    monkeypatch.setenv("GRADER_KEEP_ALIVE_TIMEOUT_S", "3")
    assert main(["serve", "--port", str(free_port())]) == 0
    assert given["http"] is DeadlineH11Protocol
    assert (given["limit_concurrency"], given["timeout_keep_alive"]) == (32, 3)
