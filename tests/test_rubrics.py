from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader import QuestionBank, RubricError, load_rubric
from grader.cli import main
from tests.shared_files import SOURCE_DOCUMENT

GOOD = """\
id: sample
question: What is a tensor?
reference_answers: ["An n-dimensional array of numbers."]
criteria:
  - id: n-dimensional
    description: A tensor is an n-dimensional array.
"""


def test_bank_holds_every_question_of_the_document(bank: QuestionBank) -> None:
    assert len(bank) >= 14
    numbered = {(r.source.section, r.source.number) for r in bank if r.source and r.source.number}
    for section, count in [("Basic", 3), ("Intermediate", 2), ("Advanced", 6)]:
        numbers = {n for s, n in numbered if s.startswith(section)}
        assert numbers == set(range(1, count + 1)), section
    overview = [r for r in bank if r.source and r.source.number is None]
    assert len(overview) == 3


def test_every_rubric_is_complete(bank: QuestionBank) -> None:
    for rubric in bank:
        assert rubric.source is not None and rubric.source.document == SOURCE_DOCUMENT.name
        assert rubric.tags and rubric.misconceptions, rubric.id
        assert all(criterion.hint for criterion in rubric.criteria), rubric.id


def test_known_document_errors_are_corrected(bank: QuestionBank) -> None:
    corrections = {r.id: " ".join(c.correct for c in r.corrections).lower() for r in bank}
    adam = corrections["adam-optimizer"]
    assert "second moment" in adam or "squared" in adam
    assert "megabyte" in corrections["cnn-image-processing"]
    assert re.search(r"output", corrections["neural-network-types"])


def test_reference_answers_are_not_copied_from_the_document(bank: QuestionBank,
                                                            source_document: Path) -> None:
    document = " ".join(source_document.read_text(encoding="utf-8").split()).lower()
    for rubric in bank:
        for answer in rubric.reference_answers:
            sentences = [s.strip().lower() for s in answer.split(".") if len(s.split()) >= 8]
            copied = [s for s in sentences if " ".join(s.split()) in document]
            assert not copied, (rubric.id, copied)


def test_bad_file_names_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "sample.yaml"
    bad.write_text(GOOD.replace("description: A tensor", "weight: -1\n    description: A tensor"))
    with pytest.raises(RubricError) as error:
        load_rubric(bad)
    assert "sample.yaml" in str(error.value) and "criteria.0.weight" in str(error.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("id: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        (GOOD.replace("id: sample", "id: other"), "field 'id'"),
        (GOOD + "colour: blue\n", "colour"),
        (GOOD.replace("criteria:", "criteria: []\nunused:"), "criteria"),
    ],
)
def test_broken_files_fail_loudly(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "sample.yaml"
    path.write_text(content)
    with pytest.raises(RubricError, match=re.escape(fragment)):
        load_rubric(path)


def test_check_command_passes_on_the_bank(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rubrics", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_check_command_reports_every_bad_file(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sample.yaml").write_text(GOOD)
    (tmp_path / "one.yaml").write_text("id: one\n")
    (tmp_path / "two.yaml").write_text("id: [")
    assert main(["rubrics", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "one.yaml" in err and "two.yaml" in err and "sample.yaml" not in err
