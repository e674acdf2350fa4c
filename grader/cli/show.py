"""``grader show ID``: one question with its key points and hints, the reference on request."""

from __future__ import annotations

import argparse
import json

from grader.bank import QuestionBank
from grader.rubric import Rubric
from grader.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "show", help="show one question: its key points and hints",
        description="Show a question of the bank with the key points an answer is graded on and "
                    "the hint for each. The reference answers are left out unless asked for, so "
                    "that the command can be used to practise.")
    parser.add_argument("question_id", metavar="ID", help="question id (see `grader questions`)")
    parser.add_argument("--reference", action="store_true",
                        help="also show the reference answers")
    parser.add_argument("--json", action="store_true", help="print the question as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rubric = QuestionBank.from_dir(get_settings().rubrics_dir).get(args.question_id)
    if args.json:
        data = {"id": rubric.id, "question": rubric.question, "area": rubric.area,
                "difficulty": rubric.difficulty, "tags": rubric.tags,
                "criteria": [{"id": c.id, "description": c.description, "hint": c.hint}
                             for c in rubric.criteria]}
        if args.reference:
            data["reference_answers"] = rubric.reference_answers
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render(rubric, reference=args.reference))
    return 0


def render(rubric: Rubric, *, reference: bool = False) -> str:
    """The question, its facts, and a numbered list of key points, each with its hint."""
    lines = [f"{rubric.id} ({rubric.area or 'no area'}, {rubric.difficulty}"
             + (f"; tags: {', '.join(rubric.tags)})" if rubric.tags else ")"),
             "", rubric.question, "", "Key points:"]
    for number, criterion in enumerate(rubric.criteria, start=1):
        lines.append(f"  {number}. {criterion.description}")
        if criterion.hint:
            lines.append(f"     hint: {criterion.hint}")
    if reference:
        lines += ["", "Reference answers:"]
        lines += [f"  {number}. {text}"
                  for number, text in enumerate(rubric.reference_answers, start=1)]
    else:
        lines += ["", f"(grader show {rubric.id} --reference shows the reference answers)"]
    return "\n".join(lines)
