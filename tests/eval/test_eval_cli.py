"""``grader eval`` end to end on small samples of both datasets, with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import Grader
from grader.cli import main

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
INHOUSE = REPO / "eval" / "inhouse.jsonl"
PARAPHRASES = REPO / "eval" / "paraphrases.jsonl"
METHODS = {"grader", "grader_uncalibrated", "tfidf", "embedding"}
METRICS = {"pearson", "spearman", "rmse", "mae", "qwk", "pass_agreement"}


def _json_run(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_inhouse_sample(cli_grader: Grader, capsys: pytest.CaptureFixture[str],
                        tmp_path: Path) -> None:
    out = _json_run(capsys, str(INHOUSE), "--limit", "28", "--paraphrases", str(PARAPHRASES),
                    "--report", str(tmp_path))
    inhouse = out["inhouse"]
    assert inhouse["n"] == 28 and set(inhouse["methods"]) == METHODS
    for metrics in inhouse["methods"].values():
        assert set(metrics) == METRICS
        for value in metrics.values():
            assert value["ci_low"] <= value["value"] <= value["ci_high"]
    # The hand-labelled set runs from full marks to zero; the grader must rank it clearly.
    assert inhouse["methods"]["grader"]["spearman"]["value"] > 0.5
    probes = inhouse["probes"]
    assert probes["restated_question"]["max_score_0_100"] <= 10
    assert probes["irrelevant_text"]["answers"] > 0 and probes["paraphrase"]["pairs"] >= 1
    report = (tmp_path / "REPORT.md").read_text()
    assert "## inhouse" in report and "Irrelevant text appended" in report
    for plot in ("scatter", "calibration", "per-question", "length"):
        png = tmp_path / "report" / f"inhouse-{plot}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mohler_sample_calibrated_on_inhouse(cli_grader: Grader, mohler_dev: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    saved = tmp_path / "calibration.json"
    out = _json_run(capsys, str(mohler_dev), "--limit", "40", "--calibrate-on", str(INHOUSE),
                    "--save-calibration", str(saved), "--no-probes")
    mohler = out["mohler-dev"]
    assert mohler["n"] == 40 and mohler["scale_max"] == 5
    assert mohler["calibration"].startswith("fitted on inhouse")
    assert set(json.loads(saved.read_text())["methods"]) == {"grader", "tfidf", "embedding"}
    # The saved file, loaded back with --calibration, gives the same figures.
    again = _json_run(capsys, str(mohler_dev), "--limit", "40", "--calibration", str(saved),
                      "--no-probes")
    assert again["mohler-dev"]["methods"] == mohler["methods"]


def test_bad_dataset_is_a_usage_error(cli_grader: Grader, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question_id": "adam-optimizer", "answer": "x"}\n')
    assert main(["eval", str(bad)]) == 2
    assert "bad.jsonl:1:" in capsys.readouterr().err
