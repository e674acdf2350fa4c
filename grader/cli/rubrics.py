"""``grader rubrics check``: validate every rubric file and hold the bank to its minimums."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from grader.bank import QuestionBank
from grader.errors import RubricError
from grader.rubric import AREAS, DIFFICULTIES, minimum_shortfalls
from grader.settings import get_settings

_NO_AREA = "(no area)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rubrics", help="work with rubric files")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="validate every rubric file and check the bank's minimums",
        description="Validate every rubric file, print questions per area and difficulty, and "
                    "fail (exit 1) if a rubric falls short of the minimums: 2 reference answers, "
                    "4-8 criteria each with 2 phrasings and a hint, 2 misconceptions, tags, "
                    "difficulty, area and source.")
    check.add_argument("folder", nargs="?", type=Path,
                       help="folder of rubric files (default: GRADER_RUBRICS_DIR)")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    folder = args.folder or get_settings().rubrics_dir
    bank = QuestionBank.from_dir(folder)  # raises RubricError listing every bad file
    shortfalls = {rubric.id: minimum_shortfalls(rubric) for rubric in bank}
    failing = {question_id: problems for question_id, problems in shortfalls.items() if problems}
    criteria = sum(len(rubric.criteria) for rubric in bank)
    corrections = sum(len(rubric.corrections) for rubric in bank)
    print(f"{'' if failing else 'ok: '}{len(bank)} rubrics in {folder}, {criteria} criteria, "
          f"{corrections} corrections of the source document")
    print()
    print(bank_table(bank))
    print()
    print(f"minimums met: {len(bank) - len(failing)}/{len(bank)}")
    if failing:
        lines = [f"  {question_id}: {problem}"
                 for question_id, problems in failing.items() for problem in problems]
        raise RubricError(f"{len(failing)} of {len(bank)} rubrics fall short of the bank's "
                          "minimums; add what each lacks:\n" + "\n".join(lines))
    return 0


def bank_table(bank: QuestionBank) -> str:
    """Questions per area (rows) and difficulty (columns), with totals."""
    counts = Counter((rubric.area or _NO_AREA, rubric.difficulty) for rubric in bank)
    areas = [*AREAS, *([_NO_AREA] if any(r.area is None for r in bank) else [])]
    columns = [*DIFFICULTIES, "total"]
    width = max(len(area) for area in [*areas, "total"])
    rows = [f"{'area':{width}}  " + "  ".join(columns)]
    for area in [*areas, "total"]:
        cells = [sum(n for (a, d), n in counts.items()
                     if area in ("total", a) and difficulty in ("total", d))
                 for difficulty in columns]
        rows.append(f"{area:{width}}  " + "  ".join(
            f"{cell:>{len(column)}}" for cell, column in zip(cells, columns, strict=True)))
    return "\n".join(rows)
