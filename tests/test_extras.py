"""Each entry point whose optional dependency is missing says which extra to install."""

from __future__ import annotations

import sys

import pytest

from grader import Settings
from grader.cli import main
from grader.errors import MissingExtraError
from grader.grading import Grader


def test_serve_without_the_server_extra_names_it(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn now raises ImportError
    assert main(["serve"]) == 3
    assert "pip install 'grader[server]'" in capsys.readouterr().err


def test_llm_critic_without_the_llm_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "grader.llm" or m.startswith("grader.llm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "openai", None)
    settings = Settings(llm_model="any", llm_base_url="http://127.0.0.1:9/v1")
    with pytest.raises(MissingExtraError, match=r"grader\[llm\]"):
        Grader.from_settings(settings)
