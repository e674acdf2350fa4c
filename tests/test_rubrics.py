from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from grader import QuestionBank, Rubric, RubricError, load_rubric
from grader.cli import main
from grader.rubric import AREAS, LiteratureSource, Source, minimum_shortfalls
from tests.shared_files import SOURCE_DOCUMENT

GOOD = """\
id: sample
question: What is a tensor?
area: foundations
reference_answers: ["An n-dimensional array of numbers."]
criteria:
  - id: n-dimensional
    description: A tensor is an n-dimensional array.
"""

#: A rubric that meets every minimum of the bank, exactly.
COMPLETE: dict[str, Any] = {
    "id": "sample",
    "question": "What is a tensor?",
    "area": "foundations",
    "source": {"literature": "Goodfellow, Bengio & Courville (2016). Deep Learning, ch. 2."},
    "difficulty": "basic",
    "tags": ["tensors"],
    "reference_answers": ["An n-dimensional array.", "A grid of numbers with any number of axes."],
    "criteria": [{"id": f"point-{i}", "description": f"Point number {i} about tensors.",
                  "phrasings": ["one way to say it", "another way to say it"],
                  "hint": "What about this point?"} for i in range(4)],
    "misconceptions": [{"id": f"wrong-{i}", "claim": f"Wrong claim {i}.",
                        "why_wrong": "Because it is wrong."} for i in range(2)],
}


def test_bank_holds_every_question_of_the_document(bank: QuestionBank) -> None:
    seeds = [r.source for r in bank if isinstance(r.source, Source)]
    assert len(seeds) == 14
    numbered = {(source.section, source.number) for source in seeds if source.number}
    for section, count in [("Basic", 3), ("Intermediate", 2), ("Advanced", 6)]:
        numbers = {n for s, n in numbered if s.startswith(section)}
        assert numbers == set(range(1, count + 1)), section
    overview = [source for source in seeds if source.number is None]
    assert len(overview) == 3


def test_bank_covers_every_area_beyond_the_seed(bank: QuestionBank) -> None:
    assert len(bank) >= 60
    assert {rubric.area for rubric in bank} == set(AREAS)
    for area in AREAS:
        difficulties = {rubric.difficulty for rubric in bank.filter(area=area)}
        assert len(bank.filter(area=area)) >= 2 and len(difficulties) >= 2, area
    assert len([r for r in bank if "design" in r.tags]) >= 4


def test_every_rubric_is_complete(bank: QuestionBank) -> None:
    for rubric in bank:
        assert minimum_shortfalls(rubric) == [], rubric.id
        if isinstance(rubric.source, Source):
            assert rubric.source.document == SOURCE_DOCUMENT.name, rubric.id
        else:
            assert isinstance(rubric.source, LiteratureSource), rubric.id
            assert re.search(r"\b(19|20)\d\d\b", rubric.source.literature), rubric.id


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


def test_check_command_passes_on_the_bank(capsys: pytest.CaptureFixture[str],
                                         bank: QuestionBank) -> None:
    assert main(["rubrics", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ")
    assert f"minimums met: {len(bank)}/{len(bank)}" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:12] if line}
    assert rows["area"] == ["basic", "intermediate", "advanced", "total"]
    assert rows["total"][-1] == str(len(bank))
    for area in AREAS:
        in_area = bank.filter(area=area)
        assert rows[area] == [str(len([r for r in in_area if r.difficulty == d]))
                              for d in ("basic", "intermediate", "advanced")] + [str(len(in_area))]


def test_check_command_reports_every_bad_file(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sample.yaml").write_text(GOOD)
    (tmp_path / "one.yaml").write_text("id: one\n")
    (tmp_path / "two.yaml").write_text("id: [")
    assert main(["rubrics", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "one.yaml" in err and "two.yaml" in err and "sample.yaml" not in err


def test_check_command_fails_on_a_rubric_below_the_minimums(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sample.yaml").write_text(GOOD)
    (tmp_path / "complete.yaml").write_text(
        yaml.safe_dump(COMPLETE | {"id": "complete"}, sort_keys=False))
    assert main(["rubrics", "check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "minimums met: 1/2" in captured.out and not captured.out.startswith("ok")
    shortfalls = [line.strip() for line in captured.err.splitlines() if line.startswith("  ")]
    assert shortfalls == [
        "sample: reference_answers: 1, needs at least 2 (a concise one and a fuller one)",
        "sample: criteria: 1, needs 4 to 8",
        "sample: criteria.n-dimensional.phrasings: 0, needs at least 2 in candidates' words",
        "sample: criteria.n-dimensional.hint: missing",
        "sample: misconceptions: 0, needs at least 2, each with why_wrong",
        "sample: tags: none, needs at least one",
        "sample: difficulty: not set, needs one of basic, intermediate, advanced",
        "sample: source: not set, needs {document, section, number} or {literature}",
    ]


@pytest.mark.parametrize(
    ("change", "shortfall"),
    [
        ({"reference_answers": ["Only one."]}, "reference_answers: 1"),
        ({"criteria": COMPLETE["criteria"][:3]}, "criteria: 3, needs 4 to 8"),
        ({"criteria": COMPLETE["criteria"] * 3}, "criteria: 12, needs 4 to 8"),
        ({"misconceptions": COMPLETE["misconceptions"][:1]}, "misconceptions: 1"),
        ({"tags": []}, "tags: none"),
        ({"area": None}, "area: not set"),
        ({"source": None}, "source: not set"),
    ],
)
def test_each_minimum_is_enforced(change: dict[str, object], shortfall: str) -> None:
    data = COMPLETE | change
    if "criteria" in change and len(data["criteria"]) > 8:  # ids must stay unique
        data["criteria"] = [c | {"id": f"point-{i}"} for i, c in enumerate(data["criteria"])]
    assert minimum_shortfalls(Rubric.model_validate(COMPLETE)) == []
    problems = minimum_shortfalls(Rubric.model_validate(data))
    assert len(problems) == 1 and problems[0].startswith(shortfall), problems


def test_one_phrasing_or_no_hint_falls_short_but_bare_misconceptions_do_not() -> None:
    criteria = [dict(c) for c in COMPLETE["criteria"]]
    criteria[1] = criteria[1] | {"phrasings": ["only one way"]}
    criteria[2] = criteria[2] | {"hint": ""}
    problems = minimum_shortfalls(Rubric.model_validate(COMPLETE | {"criteria": criteria}))
    assert problems == ["criteria.point-1.phrasings: 1, needs at least 2 in candidates' words",
                        "criteria.point-2.hint: missing"]
    unset = {key: value for key, value in COMPLETE.items() if key != "difficulty"}
    assert minimum_shortfalls(Rubric.model_validate(unset)) == [
        "difficulty: not set, needs one of basic, intermediate, advanced"]


def test_a_bank_file_needs_an_area_but_a_draft_does_not(tmp_path: Path) -> None:
    path = tmp_path / "sample.yaml"
    path.write_text(GOOD.replace("area: foundations\n", ""))
    with pytest.raises(RubricError, match=r"field 'area' is missing; set it to one of "
                                          r"foundations, optimisation, .*language-models"):
        load_rubric(path)
    path.write_text(GOOD.replace("area: foundations\n", "draft: true\n"))
    assert load_rubric(path).area is None
    path.write_text(GOOD.replace("area: foundations", "area: maths"))
    with pytest.raises(RubricError, match=r"field 'area'.*'foundations'"):
        load_rubric(path)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ({"document": "seed.txt", "section": "Basic", "literature": "A paper (2015)."},
         "not both (remove document, section or literature)"),
        ({"literature": "A paper (2015).", "number": 2}, "not both (remove number or literature)"),
        ("Goodfellow et al. 2016", "give a mapping: {literature: '...'}"),
        ({"literature": ""}, "source.literature.literature"),
        ({"document": "seed.txt"}, "source.document.section"),
    ],
)
def test_source_takes_exactly_one_form(source: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as error:
        Rubric.model_validate(COMPLETE | {"source": source})
    text = str(error.value)
    assert fragment in text or fragment in ".".join(
        ".".join(map(str, e["loc"])) for e in error.value.errors()), text


def test_both_source_forms_load() -> None:
    literature = Rubric.model_validate(COMPLETE)
    assert isinstance(literature.source, LiteratureSource)
    seed = Rubric.model_validate(COMPLETE | {"source": {"document": "seed.txt",
                                                        "section": "Basic", "number": 1}})
    assert isinstance(seed.source, Source) and seed.source.number == 1


@pytest.mark.parametrize(
    ("path", "value", "location"),
    [
        (("question",), "What is\x07 a tensor?", "question"),
        (("reference_answers",), ["Fine.", "Not\x1b[31m fine."], "reference_answers"),
        (("criteria", 0, "hint"), "A nudge\x00", "criteria.0.hint"),
        (("criteria", 1, "phrasings"), ["ok", "zero\x0bwidth"], "criteria.1.phrasings"),
        (("misconceptions", 0, "why_wrong"), "Because\x85 it is wrong.",
         "misconceptions.0.why_wrong"),
        (("source", "literature"), "A paper\x7f (2015).", "source.literature.literature"),
        (("tags",), ["ok", "b\x0cad"], "tags"),
    ],
)
def test_control_characters_are_refused_in_every_text_field(
        path: tuple[str | int, ...], value: object, location: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(COMPLETE))  # a deep copy
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as error:
        Rubric.model_validate(data)
    (problem,) = error.value.errors()
    assert ".".join(map(str, problem["loc"])) == location
    assert "control character U+" in problem["msg"] and "remove it" in problem["msg"]


def test_newlines_and_tabs_are_kept_and_carriage_returns_become_newlines() -> None:
    rubric = Rubric.model_validate(COMPLETE | {
        "question": "What is a tensor?\r\nAnd a matrix?\rAnd a\tvector?"})
    assert rubric.question == "What is a tensor?\nAnd a matrix?\nAnd a\tvector?"


def test_filter_by_area_and_search(bank: QuestionBank) -> None:
    scale = bank.filter(area="scale")
    assert scale and all(r.area == "scale" for r in scale)
    assert len(scale) < len(bank)
    by_text = {r.id for r in bank.filter(search="  KV   cache ")}
    assert "attention-cost-and-kv-cache" in by_text
    assert all("kv cache" in r.question.lower() or any("kv cache" in t for t in r.tags)
               for r in bank.filter(search="kv cache"))
    by_tag = bank.filter(search="GAN")
    assert "gans-and-mode-collapse" in {r.id for r in by_tag}
    combined = bank.filter(search="attention", area="language-models", difficulty="advanced")
    assert [r.id for r in combined] == [r.id for r in bank if r.area == "language-models"
                                        and r.difficulty == "advanced"
                                        and ("attention" in r.question.lower()
                                             or any("attention" in t for t in r.tags))]
    assert bank.filter(search="no question says this") == []
    assert bank.filter(search="") == list(bank)


def test_questions_command_groups_by_area(capsys: pytest.CaptureFixture[str],
                                          bank: QuestionBank) -> None:
    assert main(["questions"]) == 0
    out = capsys.readouterr().out
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings[:-1] == [f"{area} ({len(bank.filter(area=area))})" for area in AREAS]
    assert headings[-1] == f"{len(bank)} of {len(bank)} questions"
    dropout = next(line for line in out.splitlines() if line.split()[:1] == ["dropout"])
    assert "intermediate" in dropout and "[regularisation, training, inference]" in dropout


def test_questions_command_filters(capsys: pytest.CaptureFixture[str],
                                   bank: QuestionBank) -> None:
    assert main(["questions", "--area", "scale", "--difficulty", "advanced", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = [r.id for r in bank.filter(area="scale", difficulty="advanced")]
    assert [row["id"] for row in rows] == expected and expected
    assert {row["area"] for row in rows} == {"scale"}

    assert main(["questions", "--search", "dropout", "--tag", "regularisation", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["id"] for row in rows] == [
        r.id for r in bank.filter(search="dropout", tag="regularisation")]
    assert "dropout" in [row["id"] for row in rows]

    assert main(["questions", "--search", "no question says this"]) == 1
    assert capsys.readouterr().err.startswith("no question matches (the bank holds ")
