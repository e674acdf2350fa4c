"""``grader rubrics check``: validate every rubric file in the bank."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.bank import QuestionBank
from grader.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rubrics", help="work with rubric files")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate every rubric file")
    check.add_argument("folder", nargs="?", type=Path,
                       help="folder of rubric files (default: GRADER_RUBRICS_DIR)")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    folder = args.folder or get_settings().rubrics_dir
    bank = QuestionBank.from_dir(folder)  # raises RubricError listing every bad file
    criteria = sum(len(rubric.criteria) for rubric in bank)
    corrections = sum(len(rubric.corrections) for rubric in bank)
    print(f"ok: {len(bank)} rubrics in {folder}, {criteria} criteria, "
          f"{corrections} corrections of the source document")
    return 0
