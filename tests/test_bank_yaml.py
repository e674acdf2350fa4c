"""Rubric YAML that PyYAML accepts but a rubric file must not hold (issue 16, L6)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.bank import MAX_YAML_DEPTH, QuestionBank, _RubricLoader, load_rubric
from grader.errors import RubricError

RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text", [
    "id: deep\nextra: " + "[" * 5_000 + "]" * 5_000 + "\n",
    "id: deep\n" + "".join("  " * i + f"k{i}:\n" for i in range(400)) + "  " * 400 + "v\n",
    "id: deep\nextra: " + "{a: " * 3_000 + "1" + "}" * 3_000 + "\n",
], ids=["flow-lists", "block-mappings", "flow-mappings"])
def test_deep_nesting_is_a_clean_rubric_error(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "deep", text)
    with pytest.raises(RubricError, match=rf"deep.yaml: line \d+: nested deeper than "
                                          rf"{MAX_YAML_DEPTH} levels"):
        load_rubric(path)
    # the bank reports it like any bad file (so `grader serve` stops with that message)
    with pytest.raises(RubricError, match="nested deeper"):
        QuestionBank.from_dir(tmp_path)


def test_a_duplicate_key_is_refused_with_its_line(tmp_path: Path) -> None:
    text = (RUBRICS / "adam-optimizer.yaml").read_text(encoding="utf-8")
    lines = text.count("\n")
    path = _write(tmp_path, "adam-optimizer", text + "question: Is this the question?\n")
    with pytest.raises(RubricError, match=rf"line {lines + 1}: key 'question' is given twice "
                                          r"\(first on line \d+\); keep one"):
        load_rubric(path)


def test_a_duplicate_key_in_a_nested_flow_mapping_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "x", "id: x\nsource: {document: a, section: b, document: c}\n")
    with pytest.raises(RubricError, match="line 2: key 'document' is given twice"):
        load_rubric(path)


def test_a_merged_key_may_be_overridden() -> None:
    text = "a: &d {x: 1, y: 2}\nb:\n  <<: *d\n  x: 3\n"
    assert yaml.load(text, Loader=_RubricLoader) == {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 2}}


def test_every_bank_file_still_loads() -> None:
    assert len(QuestionBank.from_dir(RUBRICS)) >= 14
