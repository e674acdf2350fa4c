"""A CSV quote left open does not swallow the rows after it: every record yields its own
output row, and the error says which lines the bad record ran on over (issue 22)."""

from __future__ import annotations

from pathlib import Path

from grader import Grader
from grader.batch import BatchOptions, plan_batch, run_batch
from tests.batch.batch_files import read_jsonl

CSV = ('id,question_id,answer\n'
       'c1,adam-optimizer,"Adam keeps a moving average\n'   # the quote is never closed
       'c2,dropout,Dropout zeroes units at random\n'
       'c3,dropout,"Dropout, at test time, is off"\n'
       'c4,dropout,"Dropout is\nan ensemble"\n')          # a quoted line break: one record


def test_an_unclosed_quote_costs_only_its_own_row(fake_grader: Grader, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(CSV, encoding="utf-8")
    target = tmp_path / "out.jsonl"
    run_batch(fake_grader, plan_batch(source, target, BatchOptions(chunk_size=2)))

    records = read_jsonl(target)
    assert [(r["id"], r["row"], r["line"]) for r in records] == [
        ("1", 1, 2), ("c2", 2, 3), ("c3", 3, 4), ("c4", 4, 5)]
    assert records[0]["error"]["kind"] == "malformed_csv"
    assert ("a quote opened on line 2 ran on to line 4; lines 3-4 are read again as rows of "
            "their own") in records[0]["error"]["message"]
    assert all("score" in r for r in records[1:])

    # the input's digests are the same on every read: a cut output resumes to the whole
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(line + "\n" for line in target.read_text().splitlines()[:2]))
    run_batch(fake_grader, plan_batch(source, cut, BatchOptions(chunk_size=2, resume=True)))
    assert cut.read_bytes() == target.read_bytes()
