"""``grader questions``: list the question bank."""

from __future__ import annotations

import argparse
import json

from grader.bank import QuestionBank
from grader.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("questions", help="list the questions in the bank")
    parser.add_argument("--tag", help="only questions with this tag")
    parser.add_argument("--difficulty", choices=["basic", "intermediate", "advanced"])
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    bank = QuestionBank.from_dir(get_settings().rubrics_dir)
    rubrics = bank.filter(tag=args.tag, difficulty=args.difficulty)
    for rubric in rubrics:
        if args.json:
            print(json.dumps({"id": rubric.id, "question": rubric.question,
                              "difficulty": rubric.difficulty, "tags": rubric.tags}))
        else:
            print(f"{rubric.id:34} {rubric.difficulty:12} {rubric.question}")
    return 0
