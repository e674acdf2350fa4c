"""``grader questions``: list the question bank, grouped by area."""

from __future__ import annotations

import argparse
import json
import sys

from grader.bank import QuestionBank
from grader.rubric import AREAS, DIFFICULTIES, Rubric
from grader.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("questions", help="list the questions in the bank, by area")
    parser.add_argument("--tag", help="only questions with this tag")
    parser.add_argument("--difficulty", choices=DIFFICULTIES)
    parser.add_argument("--area", choices=AREAS, help="only questions in this area")
    parser.add_argument("--search", metavar="TEXT",
                        help="only questions whose text or a tag contains TEXT (any case)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    bank = QuestionBank.from_dir(get_settings().rubrics_dir)
    rubrics = bank.filter(tag=args.tag, difficulty=args.difficulty, area=args.area,
                          search=args.search)
    if not rubrics:  # said on stderr, so that `--json` output stays empty; exit 1, like grep
        print(no_match(bank, args.tag), file=sys.stderr)
        return 1
    if args.json:
        for rubric in rubrics:
            print(json.dumps({"id": rubric.id, "question": rubric.question, "area": rubric.area,
                              "difficulty": rubric.difficulty, "tags": rubric.tags}))
    else:
        print(render(rubrics, total=len(bank)))
    return 0


def no_match(bank: QuestionBank, tag: str | None) -> str:
    """Why nothing was listed: an unknown tag (with the tags there are), or filters that no
    question passes together."""
    tags = sorted({name for rubric in bank for name in rubric.tags})
    if tag is not None and tag not in tags:
        return f"no question has the tag {tag!r}. Tags in the bank: {', '.join(tags)}."
    return f"no question matches (the bank holds {len(bank)}; drop a filter to see more)"


def render(rubrics: list[Rubric], *, total: int) -> str:
    """The questions under one heading per area, in the bank's area order, easiest first."""
    lines: list[str] = []
    for area in [*AREAS, None]:
        group = sorted((r for r in rubrics if r.area == area),
                       key=lambda r: (DIFFICULTIES.index(r.difficulty), r.id))
        if not group:
            continue
        lines += [*([""] if lines else []), f"{area or '(no area)'} ({len(group)})"]
        lines += [f"  {r.id:36} {r.difficulty:12} {_one_line(r.question)}  [{', '.join(r.tags)}]"
                  for r in group]
    lines += ["", f"{len(rubrics)} of {total} questions"]
    return "\n".join(lines)


def _one_line(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."
