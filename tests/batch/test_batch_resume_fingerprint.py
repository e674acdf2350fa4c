"""``--resume`` continues only an output that `grader batch` wrote from this very input: every
record carries a digest of the input rows up to its own, and the last kept one must match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import Grader
from grader.batch import BatchOptions, ResumeError, plan_batch, run_batch
from tests.batch.batch_files import read_csv, read_jsonl, write_csv, write_jsonl

ANSWERS = [f"Answer {n}: Adam keeps moving averages of the gradients." for n in range(6)]
NO_IDS = [{"question_id": "adam-optimizer", "answer": answer} for answer in ANSWERS]


def run(grader: Grader, source: Path, target: Path, **options: object):
    plan = plan_batch(source, target, BatchOptions(chunk_size=2, **options))  # type: ignore[arg-type]
    return run_batch(grader, plan)


def half_done(grader: Grader, source: Path, target: Path) -> bytes:
    """The output of a run killed after three rows (and in the middle of the fourth)."""
    run(grader, source, target)
    lines = target.read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(lines[:3]) + lines[3][:25])
    return target.read_bytes()


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_an_input_without_ids_that_gained_a_row_at_the_top_is_refused(
    fake_grader: Grader, tmp_path: Path, suffix: str
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", NO_IDS)
    target = tmp_path / f"out.{suffix}"
    before = half_done(fake_grader, source, target)
    # Every id is its row number, so ids alone cannot tell; grades would land on the wrong rows.
    write_jsonl(source, [{"question_id": "ann-basics", "answer": "A new first row."}, *NO_IDS])

    with pytest.raises(ResumeError, match="another input"):
        run(fake_grader, source, target, resume=True)
    assert target.read_bytes() == before  # not even the torn tail was cut


def test_a_row_edited_above_the_resume_point_is_refused(fake_grader: Grader,
                                                        tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", NO_IDS)
    target = tmp_path / "out.jsonl"
    before = half_done(fake_grader, source, target)
    write_jsonl(source, [NO_IDS[0], {**NO_IDS[1], "answer": "Edited."}, *NO_IDS[2:]])
    with pytest.raises(ResumeError, match="rows the output was made from"):
        run(fake_grader, source, target, resume=True)
    # A blank line above the resume point moves the rows' lines, which the output records.
    source.write_text("\n" + "\n".join(json.dumps(row) for row in NO_IDS) + "\n",
                      encoding="utf-8")
    with pytest.raises(ResumeError, match="another input"):
        run(fake_grader, source, target, resume=True)
    assert target.read_bytes() == before


def test_rows_added_below_the_resume_point_are_graded(fake_grader: Grader,
                                                      tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", NO_IDS[:4])
    target = tmp_path / "out.jsonl"
    half_done(fake_grader, source, target)
    write_jsonl(source, NO_IDS)  # rows 5 and 6 are new: nothing graded depends on them

    summary = run(fake_grader, source, target, resume=True)

    run(fake_grader, source, tmp_path / "whole.jsonl")
    assert target.read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert (summary.rows, summary.resumed) == (6, 3)


def test_a_csv_header_changed_above_the_rows_is_refused(fake_grader: Grader,
                                                        tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ["question_id", "answer", "note"],
                       [["adam-optimizer", answer, ""] for answer in ANSWERS])
    target = tmp_path / "out.jsonl"
    before = half_done(fake_grader, source, target)
    # The same rows under other names: 'answer' is now the note, and the answer is ignored.
    write_csv(source, ["question_id", "note", "answer"],
              [["adam-optimizer", answer, ""] for answer in ANSWERS])
    with pytest.raises(ResumeError, match="another input"):
        run(fake_grader, source, target, resume=True)
    assert target.read_bytes() == before


@pytest.mark.parametrize("content", [
    b'{"name": "precious", "notes": "not a grade"}\n',
    b'{"name": "precious", "notes": "no newline at the end"}',
    b"a line of prose\n",
    b"prose without a newline",
])
def test_a_jsonl_file_grader_did_not_write_is_refused_and_left_alone(
    fake_grader: Grader, tmp_path: Path, content: bytes
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", NO_IDS)
    target = tmp_path / "out.jsonl"
    target.write_bytes(content)
    with pytest.raises(ResumeError, match="not .*a batch record"):
        run(fake_grader, source, target, resume=True)
    assert target.read_bytes() == content


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_records_without_an_input_digest_are_refused(fake_grader: Grader, tmp_path: Path,
                                                     suffix: str) -> None:
    # What a grader from before input digests wrote, or a grade file someone put together.
    source = write_jsonl(tmp_path / "in.jsonl", NO_IDS)
    target = tmp_path / f"out.{suffix}"
    run(fake_grader, source, target)
    if suffix == "jsonl":
        records = read_jsonl(target)
        for record in records:
            del record["input_digest"]
        write_jsonl(target, records)
    else:
        rows = read_csv(target)
        write_csv(target, list(rows[0]), [[*r.values()][:-1] + [""] for r in rows])
    before = target.read_bytes()
    with pytest.raises(ResumeError, match="not a batch record"):
        run(fake_grader, source, target, resume=True)
    assert target.read_bytes() == before


def test_each_record_carries_the_digest_of_the_input_up_to_it(fake_grader: Grader,
                                                             tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", NO_IDS)
    run(fake_grader, source, tmp_path / "out.jsonl")
    run(fake_grader, source, tmp_path / "out.csv")
    digests = [r["input_digest"] for r in read_jsonl(tmp_path / "out.jsonl")]
    assert len(set(digests)) == len(NO_IDS)
    assert all(len(d) == 16 and int(d, 16) >= 0 for d in digests)
    assert [r["input_digest"] for r in read_csv(tmp_path / "out.csv")] == digests
    # The digests depend on the input's content, not on its name or the output's.
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(source.read_bytes())
    run(fake_grader, copy, tmp_path / "again.jsonl")
    assert [r["input_digest"] for r in read_jsonl(tmp_path / "again.jsonl")] == digests


def test_the_cli_refuses_another_inputs_output_before_the_model_loads(
    fake_grader: Grader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    from grader.cli import main

    source = write_jsonl(tmp_path / "in.jsonl", NO_IDS)
    target = tmp_path / "out.jsonl"
    before = half_done(fake_grader, source, target)
    write_jsonl(source, [{"question_id": "ann-basics", "answer": "A new first row."}, *NO_IDS])

    def no_model(settings: object, **_: object) -> Grader:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(Grader, "from_settings", no_model)
    assert main(["batch", str(source), "-o", str(target), "--resume", "--quiet"]) == 2
    assert "another input" in capsys.readouterr().err
    assert target.read_bytes() == before
