"""``grader grade``: grade one answer and explain the grade."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.cli.loading import checker, load_grader
from grader.errors import InvalidAnswerError
from grader.result import GradeResult
from grader.settings import get_settings

#: How each key point's status is shown: a word (never a mark that could read as another), and
#: the ANSI colour it takes on a terminal that shows colour.
_STATUS = {"met": ("met", "32"), "partial": ("partly", "33"), "missed": ("missed", "31"),
           "contradicted": ("wrong", "1;31")}
_LEGEND = ("met: the answer makes the point; partly: it makes part of it; missed: it does not "
           "make it; wrong: it says the opposite")
CRITIC_HELP = ("who judges each key point: offline (the local model), llm (the LLM set in "
               "GRADER_LLM_MODEL), or auto (the LLM when one is set, else offline; the default)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("grade", help="grade one answer to a question in the bank")
    parser.add_argument("--question", "-q", required=True, metavar="ID", help="question id")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--answer", "-a", metavar="TEXT",
                        help="the answer text (default: read it from standard input)")
    source.add_argument("--answer-file", type=Path, metavar="PATH",
                        help="read the answer from a file ('-' for standard input)")
    parser.add_argument("--critic", choices=["auto", "offline", "llm"], default="auto",
                        help=CRITIC_HELP)
    parser.add_argument("--json", action="store_true", help="print the GradeResult as JSON")
    parser.set_defaults(handler=run)


def read_answer(args: argparse.Namespace) -> str:
    if args.answer is not None:
        return str(args.answer)
    if args.answer_file is None or str(args.answer_file) == "-":
        if args.answer_file is None and sys.stdin.isatty():
            print("Type or paste the answer, then Ctrl-D on a line of its own:", file=sys.stderr)
        return sys.stdin.read()
    try:
        return Path(args.answer_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidAnswerError(f"Cannot read answer file {args.answer_file}: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    answer = read_answer(args)
    settings = get_settings()
    check = checker(settings)  # an unknown id or an answer over the limit fails before loading
    check.resolve(args.question)
    check.check_answer(answer)
    grader = load_grader(settings, check.bank)
    result = grader.grade(args.question, answer, critic=args.critic)
    print(result.model_dump_json(indent=2) if args.json
          else render(result, colour=use_colour(sys.stdout)))
    return 0


def use_colour(stream: object) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set (no-color.org) or
    ``TERM=dumb``."""
    isatty = getattr(stream, "isatty", None)
    return (callable(isatty) and bool(isatty()) and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def status_label(status: str, *, colour: bool = False) -> str:
    """A key point's status as a word padded to one width, coloured on request."""
    word, code = _STATUS[status]
    padded = f"{word:<7}"
    return f"\033[{code}m{padded}\033[0m" if colour else padded


def render(result: GradeResult, *, colour: bool = False) -> str:
    """A readable summary of a grade for a terminal."""
    lines = [f"{result.question_id}: {result.score:.1f}/100  {result.verdict.upper()}"
             + (f"  (flags: {', '.join(result.flags)})" if result.flags else ""),
             "", result.feedback.summary, "", f"Key points ({_LEGEND}):"]
    for criterion in result.criteria:
        lines.append(f"  {status_label(criterion.status, colour=colour)} "
                     f"{criterion.description}")
        if criterion.evidence:
            lines.append(f"          evidence: \"{criterion.evidence}\"")
    if result.misconceptions:
        lines += ["", "Wrong claims:"]
        lines += [f"  - \"{m.evidence}\"\n    {m.why_wrong}" for m in result.misconceptions]
    if result.feedback.missing:
        lines += ["", "To improve:"] + [f"  - {hint}" for hint in result.feedback.missing]
    critic = result.critic.kind + (f" (fallback: {result.critic.fallback_reason})"
                                   if result.critic.fallback_reason else "")
    lines += ["", f"critic: {critic}; model: {result.versions.embedding_model}"]
    return "\n".join(lines)
