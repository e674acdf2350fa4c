"""Document in, draft rubric files out: parse, draft each question, validate, write."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.errors import ConfigurationError, LLMError
from grader.ingest.draft import MAX_ID_WORDS, draft_rubric, reference_text, unique_id
from grader.ingest.errors import IngestError
from grader.ingest.parse import ParsedQuestion, parse_file
from grader.ingest.write import write_drafts
from grader.result import TokenUsage
from grader.rubric import Rubric
from grader.settings import Settings
from grader.text import slugify, words

Origin = Literal["document", "llm", "fallback"]
#: Questions drafted by the LLM at the same time.
LLM_CONCURRENCY = 4


class Draft(BaseModel):
    """One drafted question: the rubric, where its criteria came from, and any warning."""

    model_config = ConfigDict(frozen=True)

    rubric: Rubric
    parsed: ParsedQuestion
    origin: Origin = Field(description="document: derived; llm: drafted; fallback: LLM failed")
    warnings: list[str] = Field(default_factory=list)
    usage: TokenUsage | None = Field(default=None, description="LLM tokens spent on this draft")


class IngestReport(BaseModel):
    """What ingesting one document found, drafted, skipped and wrote."""

    model_config = ConfigDict(frozen=True)

    document: Path
    questions: int = Field(description="questions found in the document")
    drafts: list[Draft]
    skipped: list[str] = Field(default_factory=list, description="questions not drafted, and why")
    written: list[Path] = Field(default_factory=list)
    usage: TokenUsage | None = None

    @property
    def warnings(self) -> list[str]:
        return [*self.skipped, *(w for draft in self.drafts for w in draft.warnings)]

    @property
    def fallbacks(self) -> int:
        return sum(1 for draft in self.drafts if draft.origin == "fallback")


def draft_document(path: Path, *, settings: Settings | None = None, use_llm: bool = False
                   ) -> IngestReport:
    """Draft a rubric for every question in the document, without writing anything.

    Raises ``DocumentError`` for an unreadable document or one without questions, and
    ``CriticUnavailableError`` when ``use_llm`` is set but no LLM is configured.
    """
    settings = settings or Settings.defaults()
    if use_llm and not settings.llm_configured:
        raise ConfigurationError(
            "--llm was given but no LLM is configured: set GRADER_LLM_MODEL (and "
            "GRADER_LLM_BASE_URL, GRADER_LLM_API_KEY), or drop --llm to derive criteria from "
            "the document's answers."
        )
    questions = parse_file(path)
    name = "stdin" if str(path) == "-" else path.name
    used: set[str] = set()
    jobs: list[tuple[ParsedQuestion, str, str]] = []
    skipped: list[str] = []
    for parsed in questions:
        where = f"{name} line {parsed.line} ({parsed.question[:60]!r})"
        reference = reference_text(parsed).strip()
        if len(reference) < 3 or not words(reference):
            skipped.append(f"{where}: no answer text follows the question; not drafted.")
            continue
        if len(parsed.question) < 3 or not words(parsed.question):
            skipped.append(f"{where}: the question has no words to draft from; not drafted.")
            continue
        ident = unique_id(slugify(parsed.question, max_words=MAX_ID_WORDS), used)
        jobs.append((parsed, ident, where))

    def one(job: tuple[ParsedQuestion, str, str]) -> Draft:
        parsed, rubric_id, where = job
        return _draft_one(parsed, rubric_id, name, where, settings, use_llm)

    if use_llm and len(jobs) > 1:  # LLM calls wait on the network; the client is thread-safe
        with ThreadPoolExecutor(LLM_CONCURRENCY, thread_name_prefix="ingest-llm") as pool:
            drafts = list(pool.map(one, jobs))
    else:
        drafts = [one(job) for job in jobs]
    usage = None
    if use_llm:
        spent = [d.usage for d in drafts if d.usage is not None]
        usage = TokenUsage(prompt_tokens=sum(u.prompt_tokens for u in spent),
                           completion_tokens=sum(u.completion_tokens for u in spent))
    return IngestReport(document=path, questions=len(questions), drafts=drafts, skipped=skipped,
                        usage=usage)


def ingest(path: Path, folder: Path, *, settings: Settings | None = None, use_llm: bool = False,
           force: bool = False) -> IngestReport:
    """Draft every question of ``path`` and write ``folder/<id>.yaml`` for each.

    ```python
    report = ingest(Path("questions.md"), Path("drafts"))
    [p.name for p in report.written]
    ```
    ['what-is-dropout.yaml', ...]

    Nothing is written if any target exists and ``force`` is not set (``DraftExistsError``).
    """
    report = draft_document(path, settings=settings, use_llm=use_llm)
    written = write_drafts([draft.rubric for draft in report.drafts], folder, force=force)
    return report.model_copy(update={"written": written})


def _draft_one(parsed: ParsedQuestion, rubric_id: str, document: str, where: str,
               settings: Settings, use_llm: bool) -> Draft:
    warnings = []
    if not parsed.answer:
        warnings.append(f"{where}: the document gives no answer, only the question's context; "
                        "the draft's reference answer is that context. Write a real answer "
                        "before grading with it.")
    if parsed.code_blocks:
        warnings.append(f"{where}: {parsed.code_blocks} code block(s) left out of the reference "
                        "answer and criteria.")
    try:
        if use_llm:
            try:
                return _llm_draft(parsed, rubric_id, document, settings, warnings)
            except LLMError as error:
                warnings.append(f"{where}: LLM drafting failed, criteria derived from the "
                                f"document instead: {error}")
                return Draft(rubric=draft_rubric(parsed, rubric_id=rubric_id, document=document),
                             parsed=parsed, origin="fallback", warnings=warnings, usage=error.usage)
        return Draft(rubric=draft_rubric(parsed, rubric_id=rubric_id, document=document),
                     parsed=parsed, origin="document", warnings=warnings)
    except ValidationError as error:
        raise IngestError(f"{where}: the draft fails the rubric schema: {error}") from error


def _llm_draft(parsed: ParsedQuestion, rubric_id: str, document: str, settings: Settings,
               warnings: list[str]) -> Draft:
    from grader.ingest.llm import request_draft, to_criteria, to_misconceptions

    reply, usage = request_draft(parsed, settings)
    try:
        rubric = draft_rubric(parsed, rubric_id=rubric_id, document=document,
                              criteria=to_criteria(reply), misconceptions=to_misconceptions(reply))
    except ValidationError as error:  # a reply that parses but breaks the bank's schema
        raise LLMError(f"the drafted rubric fails the schema: {error}", usage=usage) from error
    return Draft(rubric=rubric, parsed=parsed, origin="llm", warnings=warnings, usage=usage)
