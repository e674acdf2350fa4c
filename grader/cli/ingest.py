"""``grader ingest``: turn a document of questions and answers into draft rubric files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.ingest import IngestReport, ingest
from grader.rubric import Source
from grader.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ingest", help="draft rubric files from a plain-text or Markdown question document",
        description="Write one draft rubric (draft: true) per question found in DOCUMENT.",
    )
    parser.add_argument("document", type=Path, metavar="DOCUMENT",
                        help=".txt or .md file; - reads standard input")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                        help="folder for the draft YAML files (created if missing)")
    parser.add_argument("--llm", action="store_true",
                        help="draft criteria and misconceptions with the configured LLM "
                             "(GRADER_LLM_MODEL); questions it fails on fall back to derivation")
    parser.add_argument("--force", action="store_true", help="overwrite existing draft files")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    report = ingest(args.document, args.output, settings=get_settings(), use_llm=args.llm,
                    force=args.force)
    print(render(report))
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.llm:
        print(_llm_summary(report), file=sys.stderr)
    return 0


def render(report: IngestReport) -> str:
    lines = []
    for draft, path in zip(report.drafts, report.written, strict=True):
        source = draft.rubric.source
        where = source.section if isinstance(source, Source) else "?"
        if isinstance(source, Source) and source.number:
            where += f" #{source.number}"
        lines.append(f"wrote {path}  [{where}] {len(draft.rubric.criteria)} criteria "
                     f"({draft.origin})")
    document = "stdin" if str(report.document) == "-" else report.document.name
    lines.append(f"{len(report.written)} draft(s) from {report.questions} question(s) in "
                 f"{document}" + (f", {len(report.skipped)} skipped" if report.skipped else ""))
    return "\n".join(lines)


def _llm_summary(report: IngestReport) -> str:
    drafted = sum(1 for draft in report.drafts if draft.origin == "llm")
    usage = report.usage
    tokens = (f"; {usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens"
              if usage else "")
    return (f"llm: {drafted} drafted by the LLM, {report.fallbacks} fell back to derived "
            f"criteria{tokens}")
