"""``grader batch --engine``: options of one engine given to the other are refused, never ignored.

The Ray engine's runs are in tests/batch/test_batch_ray.py; these checks need no Ray cluster
and no model: each fails before either starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import Grader
from grader.cli import main
from tests.batch.batch_files import write_jsonl


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cls: type[Grader], settings: object, **_: object) -> Grader:
        raise AssertionError("the model was loaded")
    monkeypatch.setattr(Grader, "from_settings", classmethod(refuse))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", [{"question_id": "adam-optimizer", "answer": "x"}])


@pytest.mark.parametrize("extra", [["--merge"], ["--actors", "2"], ["--num-gpus", "1"],
                                   ["--ray-address", "ray://head:10001"]])
def test_ray_options_need_the_ray_engine(source: Path, tmp_path: Path, extra: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(source), "-o", str(tmp_path / "out.jsonl"), *extra]) == 2
    assert "need --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_the_local_engine_takes_one_input(source: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(source), str(source), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert "--engine ray for several files" in capsys.readouterr().err


def test_standard_streams_are_the_local_engines(source: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(source), "-o", "-", "--engine", "ray"]) == 2
    assert "--engine local only" in capsys.readouterr().err
