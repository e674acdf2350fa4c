"""CSV with quoted newlines, commas, quotes and non-ASCII text goes in and comes out intact."""

from __future__ import annotations

from pathlib import Path

from grader import Grader
from grader.batch import BatchOptions, plan_batch, run_batch
from tests.batch.batch_files import read_csv, read_jsonl, write_csv

ANSWER = ("Ein Stapel ist LIFO: zuletzt hinein, zuerst heraus — größte Einfachheit.\n"
          "Zweite Zeile, mit \"Anführungszeichen\" und Komma: push, pop.")
QUESTION = "Was ist ein Stapel (stack)? 日本語でも説明してください。"


def test_csv_with_quoted_newlines_and_non_ascii_round_trips(fake_grader: Grader,
                                                            tmp_path: Path) -> None:
    ids = ["zeile\neins", "naïve, \"quoted\"", "学生-3", "emoji 🙂"]
    source = write_csv(tmp_path / "in.csv", ["id", "question", "reference_answer", "answer"],
                       [[identifier, QUESTION, ANSWER, ANSWER] for identifier in ids])

    for target in (tmp_path / "out.csv", tmp_path / "out.jsonl"):
        summary = run_batch(fake_grader, plan_batch(source, target, BatchOptions()))
        assert (summary.rows, summary.graded) == (4, 4)

    csv_records = read_csv(tmp_path / "out.csv")
    json_records = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in csv_records] == ids
    assert [r["id"] for r in json_records] == ids
    # A record spans one line per newline in it: the first has one more, in its id.
    assert [r["line"] for r in csv_records] == ["2", "6", "9", "12"]
    # The answer's sentences come back as evidence, byte for byte.
    evidence = {c["evidence"] for c in json_records[0]["criteria"] if c["evidence"]}
    assert any("größte Einfachheit" in text for text in evidence)
    assert all(text in ANSWER for text in evidence)
    assert json_records[0]["score"] == float(csv_records[0]["score"])
    assert json_records[0]["feedback"]["summary"] == csv_records[0]["feedback"]
