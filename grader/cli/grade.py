"""``grader grade``: grade one answer and explain the grade."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.errors import InvalidAnswerError
from grader.grading import Grader
from grader.result import GradeResult
from grader.settings import get_settings

_MARK = {"met": "[x]", "partial": "[~]", "missed": "[ ]", "contradicted": "[!]"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("grade", help="grade one answer to a question in the bank")
    parser.add_argument("--question", "-q", required=True, metavar="ID", help="question id")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--answer", "-a", metavar="TEXT", help="the answer text")
    source.add_argument("--answer-file", type=Path, metavar="PATH",
                        help="read the answer from a file ('-' for standard input)")
    parser.add_argument("--critic", choices=["auto", "offline", "llm"], default="auto")
    parser.add_argument("--json", action="store_true", help="print the GradeResult as JSON")
    parser.set_defaults(handler=run)


def read_answer(args: argparse.Namespace) -> str:
    if args.answer is not None:
        return str(args.answer)
    if str(args.answer_file) == "-":
        return sys.stdin.read()
    try:
        return Path(args.answer_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidAnswerError(f"Cannot read answer file {args.answer_file}: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    answer = read_answer(args)
    grader = Grader.from_settings(get_settings())
    result = grader.grade(args.question, answer, critic=args.critic)
    print(result.model_dump_json(indent=2) if args.json else render(result))
    return 0


def render(result: GradeResult) -> str:
    """A readable summary of a grade for a terminal."""
    lines = [f"{result.question_id}: {result.score:.1f}/100  {result.verdict.upper()}"
             + (f"  (flags: {', '.join(result.flags)})" if result.flags else ""),
             "", result.feedback.summary, "", "Key points:"]
    for criterion in result.criteria:
        lines.append(f"  {_MARK[criterion.status]} {criterion.description}")
        if criterion.evidence:
            lines.append(f"        evidence: \"{criterion.evidence}\"")
    if result.misconceptions:
        lines += ["", "Wrong claims:"]
        lines += [f"  - \"{m.evidence}\"\n    {m.why_wrong}" for m in result.misconceptions]
    if result.feedback.missing:
        lines += ["", "To improve:"] + [f"  - {hint}" for hint in result.feedback.missing]
    critic = result.critic.kind + (f" (fallback: {result.critic.fallback_reason})"
                                   if result.critic.fallback_reason else "")
    lines += ["", f"critic: {critic}; model: {result.versions.embedding_model}"]
    return "\n".join(lines)
