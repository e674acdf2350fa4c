"""Drafting rubrics from parsed questions and writing them safely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.bank import QuestionBank, load_rubric
from grader.ingest import DraftExistsError, draft_document, ingest, key_points
from grader.ingest.draft import slugify
from grader.rubric import Rubric

ADVANCED = "Advanced Deep Learning Interview Questions"


def test_source_document_drafts_load_as_a_bank(source_document: Path, tmp_path: Path) -> None:
    report = ingest(source_document, tmp_path)
    assert report.questions == 14 and len(report.written) == 14 and not report.skipped

    bank = QuestionBank.from_dir(tmp_path)  # the bank's own loader: ids match file names
    assert len(bank) == 14
    for rubric in bank:
        assert rubric.draft is True
        assert rubric.source is not None
        assert rubric.source.document == source_document.name
        assert len(rubric.reference_answers) == 1
        assert 1 <= len(rubric.criteria) <= 8
        assert all(c.weight == 1 and c.hint == "" for c in rubric.criteria)

    anns = bank.get("anns")
    assert anns.question == "What are ANNs?"
    assert (anns.source.section, anns.source.number) == (  # type: ignore[union-attr]
        "Basic Deep Learning Interview Questions", 1)
    assert anns.difficulty == "basic" and anns.tags == ["basic-deep-learning"]
    assert anns.reference_answers[0].startswith("Artificial neural networks are models")
    # every criterion is a sentence or clause of the document's answer
    flat = " ".join(anns.reference_answers[0].split())
    assert all(c.description.rstrip(".") in flat for c in anns.criteria)

    overview = bank.get("deep-learning-work")
    assert overview.source.number is None and overview.tags == ["overview"]  # type: ignore[union-attr]


def test_warnings_name_the_question_and_what_to_do(source_document: Path) -> None:
    report = draft_document(source_document)
    airbnb = next(d for d in report.drafts if d.parsed.number == 1 and d.parsed.section == ADVANCED)
    assert airbnb.rubric.question.startswith("Airbnb: Brazilian Bookings Recommendations\n\n")
    assert any("no answer" in w and "line 123" in w and "Write a real answer" in w
               for w in airbnb.warnings)
    important = next(d for d in report.drafts if d.rubric.id == "deep-learning-important")
    assert any("code block" in w for w in important.warnings)
    assert all(not any("std::" in c.description for c in d.rubric.criteria)
               for d in report.drafts)


def test_key_points_keep_sentences_and_split_long_ones() -> None:
    answer = ("Dropout zeroes random activations during training. It prevents co-adaptation.\n\n"
              "- At inference time every unit is kept and the activations are scaled by the "
              "keep probability so that their expected values match those seen in training, "
              "which keeps the next layer's inputs on the same scale\n"
              "- It is cheap.\n\nSee the figure above.")
    points = key_points(answer)
    assert points[0] == ("Dropout zeroes random activations during training. "
                         "It prevents co-adaptation.")  # a short sentence joins the one before
    assert all(not p.startswith("- ") for p in points)
    assert not any("figure" in p for p in points)
    long_item = [p for p in points if "inference" in p or "scale" in p]
    assert len(long_item) >= 2  # the 40-word bullet was split into clauses
    assert len(points) <= 8


def test_key_points_cap_keeps_answer_order() -> None:
    answer = " ".join(f"Point number {n} says layer {n} feeds layer {n + 1} in the network."
                      for n in range(1, 13))
    points = key_points(answer, limit=5)
    assert len(points) == 5
    numbers = [int(p.split()[2]) for p in points]
    assert numbers == sorted(numbers)


def test_ids_are_slugs_and_collisions_get_suffixes(tmp_path: Path) -> None:
    assert slugify("What Is the Architecture Behind CNNs?") == "architecture-behind-cnns"
    document = tmp_path / "dupes.md"
    document.write_text(
        "# Set A\n\n## What is dropout?\n\nDropout zeroes random activations while training.\n\n"
        "# Set B\n\n## What is dropout?\n\nIt drops units at random to regularise a network.\n\n"
        "## What is dropout?\n\nA regulariser that removes units at random during training.\n",
        encoding="utf-8")
    report = ingest(document, tmp_path / "out")
    assert [d.rubric.id for d in report.drafts] == ["dropout", "dropout-2", "dropout-3"]
    assert [p.name for p in report.written] == ["dropout.yaml", "dropout-2.yaml", "dropout-3.yaml"]
    assert [d.rubric.tags for d in report.drafts] == [["set"], ["set-b"], ["set-b"]]


def test_existing_files_are_not_overwritten_without_force(markdown_fixture: Path,
                                                          tmp_path: Path) -> None:
    first = ingest(markdown_fixture, tmp_path)
    target = first.written[3]
    target.write_text("edited by a person\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    with pytest.raises(DraftExistsError) as raised:
        ingest(markdown_fixture, tmp_path)
    assert str(target) in str(raised.value) and "--force" in str(raised.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing touched

    ingest(markdown_fixture, tmp_path, force=True)
    assert load_rubric(target).draft is True
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)  # no temp files left


def test_one_existing_file_blocks_the_whole_document(markdown_fixture: Path,
                                                     tmp_path: Path) -> None:
    (tmp_path / "explain-batch-normalization-computes.yaml").write_text("mine\n", encoding="utf-8")
    with pytest.raises(DraftExistsError, match="explain-batch-normalization-computes.yaml"):
        ingest(markdown_fixture, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["explain-batch-normalization-computes.yaml"]


def test_written_yaml_round_trips(markdown_fixture: Path, tmp_path: Path) -> None:
    report = ingest(markdown_fixture, tmp_path)
    for draft, path in zip(report.drafts, report.written, strict=True):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert Rubric.model_validate(loaded) == draft.rubric
    dropout = report.drafts[0].rubric
    assert dropout.tags == ["neural-network-training", "regularization"]
    assert dropout.difficulty == "intermediate"


def test_questions_without_answers_are_skipped_and_reported(tmp_path: Path) -> None:
    document = tmp_path / "gaps.md"
    document.write_text("## What is a tensor?\n\n## What is a gradient?\n\n"
                        "The vector of partial derivatives of the loss with respect to the "
                        "parameters.\n\n## Q: ?\n\nAn answer to a question with no words.\n",
                        encoding="utf-8")
    report = ingest(document, tmp_path / "out")
    assert [d.rubric.id for d in report.drafts] == ["gradient"]
    assert len(report.skipped) == 2 and "What is a tensor?" in report.skipped[0]
    assert "line 7" in report.skipped[1] and "no words" in report.skipped[1]
    assert report.skipped[0] in report.warnings
