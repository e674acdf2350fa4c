"""The grader as a Model Context Protocol tool server, for AI coaches running in agent hosts.

A thin adapter, like ``api/``: four tools over the question bank and the grader. The same server
runs over stdio (``grader mcp``) and streamable HTTP (mounted by ``grader serve`` at ``/mcp``);
a ``GradingBackend`` says where the grader comes from and how answers reach it.

Needs the ``mcp`` extra (``pip install 'grader[mcp]'``); ``create_mcp_server`` says so when it
is missing. Nothing is imported from ``mcp`` until then.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import anyio
import anyio.to_thread
from pydantic import BaseModel, Field, ValidationError

from grader.__version__ import __version__
from grader.adhoc import AdhocQuestion
from grader.errors import (
    GraderError,
    InvalidQuestionError,
    MissingExtraError,
    describe_validation_error,
)
from grader.grading import GradeItem, Grader
from grader.json_schema import hide_null
from grader.result import CriticChoice, GradeResult
from grader.rubric import Area, Difficulty, Rubric

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

logger = logging.getLogger("grader.mcp")

INSTRUCTIONS = """\
Grades free-text answers to deep-learning interview questions and explains the grade.
Typical use: list_questions to pick a question, get_question to show it (its key points and
hints, never the reference answer unless you ask), then grade_answer with the candidate's
answer. grade_adhoc grades an answer to a question of your own, given with reference answers.
Grades are deterministic with the default offline critic; scores are 0-100 and the verdict is
pass, borderline or fail."""

Outcome = GradeResult | GraderError


class GradingBackend(Protocol):
    """Where the MCP tools get the grader, and how they grade with it."""

    async def get_grader(self) -> Grader:
        """The grader, once it is loaded; raises ``GraderError`` when it cannot be."""
        ...

    async def grade(self, items: Sequence[GradeItem]) -> list[Outcome]:
        """One result or one error per item, in order."""
        ...

    async def preload(self) -> None:
        """Start loading the grader ahead of the first call, if that is this backend's job."""
        ...


class LocalBackend:
    """A grader in this process, loaded by ``load`` on first use (or ``preload``) in a worker
    thread; one grading call at a time, since the model is shared."""

    def __init__(self, load: Callable[[], Grader]) -> None:
        self._load = load
        self._grader: Grader | None = None
        self._failure: GraderError | None = None
        self._loading = anyio.Lock()
        self._model = threading.Lock()

    async def get_grader(self) -> Grader:
        async with self._loading:
            if self._grader is None and self._failure is None:
                try:
                    self._grader = await anyio.to_thread.run_sync(self._load)
                except GraderError as error:  # kept: every later call reports the same cause
                    logger.error("loading the grader failed: %s", error)
                    self._failure = error
                else:
                    logger.info("grader loaded: %d questions, embedding model %s",
                                len(self._grader.bank), self._grader.embedder.model_name)
            if self._failure is not None:
                raise self._failure
            assert self._grader is not None  # loaded above, or the failure was raised
            return self._grader

    async def grade(self, items: Sequence[GradeItem]) -> list[Outcome]:
        grader = await self.get_grader()

        def grade_locked() -> list[Outcome]:
            with self._model:
                return grader.grade_many(items)

        return await anyio.to_thread.run_sync(grade_locked)

    async def preload(self) -> None:
        try:
            await self.get_grader()
        except GraderError:
            pass  # logged, and reported by every tool call


# -- what the tools return ---------------------------------------------------------------------


class QuestionBrief(BaseModel):
    id: str
    question: str
    difficulty: Difficulty
    area: Area | None = None
    tags: list[str]
    criteria_count: int


class QuestionList(BaseModel):
    questions: list[QuestionBrief]
    total: int = Field(description="questions that match the filters")


class CriterionBrief(BaseModel):
    id: str
    description: str = Field(description="the key point, stated as a correct claim")
    weight: float
    hint: str = Field(description="a nudge for a candidate who missed it")


class QuestionCard(BaseModel):
    id: str
    question: str
    difficulty: Difficulty
    area: Area | None = None
    tags: list[str]
    criteria: list[CriterionBrief]
    reference_answers: list[str] | None = Field(
        default=None, description="only when include_reference is true")


def _brief(rubric: Rubric) -> QuestionBrief:
    return QuestionBrief(id=rubric.id, question=rubric.question, difficulty=rubric.difficulty,
                         area=rubric.area, tags=list(rubric.tags),
                         criteria_count=len(rubric.criteria))


def _card(rubric: Rubric, include_reference: bool) -> QuestionCard:
    return QuestionCard(
        id=rubric.id, question=rubric.question, difficulty=rubric.difficulty, area=rubric.area,
        tags=list(rubric.tags),
        criteria=[CriterionBrief(id=c.id, description=c.description, weight=c.weight,
                                 hint=c.hint) for c in rubric.criteria],
        reference_answers=list(rubric.reference_answers) if include_reference else None)


# -- the server --------------------------------------------------------------------------------


def _import_mcp() -> Any:
    try:
        from mcp.server import mcpserver
    except ImportError as error:
        raise MissingExtraError("The MCP tool server (grader mcp, /mcp)", "mcp", error
                                ) from error
    return mcpserver


def create_mcp_server(backend: GradingBackend | Grader) -> MCPServer[Any]:
    """The grader's MCP server: tools ``list_questions``, ``get_question``, ``grade_answer``
    and ``grade_adhoc``. Pass a ``Grader`` to serve it directly.

    Raises ``MissingExtraError`` when the ``mcp`` extra is not installed.
    """
    mcpserver = _import_mcp()
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations

    if isinstance(backend, Grader):
        loaded = backend
        backend = LocalBackend(lambda: loaded)
    source: GradingBackend = backend

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(source.preload)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()

    server = _quietly(lambda: mcpserver.MCPServer(
        "grader", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan))
    reads = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    async def grader_or_error() -> Grader:
        try:
            return await source.get_grader()
        except GraderError as error:
            raise ToolError(str(error)) from error

    async def grade_one(item: GradeItem) -> GradeResult:
        try:
            [outcome] = await source.grade([item])
        except GraderError as error:
            raise ToolError(str(error)) from error
        if isinstance(outcome, GraderError):
            raise ToolError(str(outcome)) from outcome
        return outcome

    async def list_questions(
        tag: Annotated[str | None, Field(description="only questions with this tag",
                                         json_schema_extra=hide_null)] = None,
        difficulty: Annotated[Difficulty | None, Field(description="only this difficulty",
                                                       json_schema_extra=hide_null)] = None,
    ) -> QuestionList:
        """Returns the interview questions in the bank (id, text, difficulty, area, tags),
        optionally filtered by tag or difficulty. Use it first, to pick a question id for
        get_question or grade_answer."""
        grader = await grader_or_error()
        matching = grader.bank.filter(tag=tag, difficulty=difficulty)
        return QuestionList(questions=[_brief(r) for r in matching], total=len(matching))

    async def get_question(
        id: Annotated[str, Field(description="a question id from list_questions",
                                 max_length=200)],
        include_reference: Annotated[bool, Field(
            description="also return the reference answers (do not show them to a candidate "
                        "before they answer)")] = False,
    ) -> QuestionCard:
        """Returns one question with its key points (criteria) and a hint for each. Use it to
        ask a candidate the question, or to coach them. The reference answers are left out
        unless include_reference is true."""
        grader = await grader_or_error()
        try:
            return _card(grader.bank.get(id), include_reference)
        except GraderError as error:
            raise ToolError(str(error)) from error

    async def grade_answer(
        question_id: Annotated[str, Field(description="a question id from list_questions",
                                          max_length=200)],
        answer: Annotated[str, Field(description="the candidate's answer, as free text")],
        critic: Annotated[CriticChoice, Field(
            description="'offline' (default: fast, deterministic); 'llm' or 'auto' use the LLM "
                        "critic when the server has one")] = "offline",
    ) -> GradeResult:
        """Grades a candidate's answer to a bank question. Returns the GradeResult: score
        0-100, verdict (pass, borderline, fail), each key point met/partial/missed/contradicted
        with the sentence that shows it, wrong claims, and feedback with hints for what is
        missing. Use it once the candidate has answered."""
        return await grade_one(GradeItem(question_id, answer, critic))

    async def grade_adhoc(
        question: Annotated[str, Field(description="the question that was asked")],
        reference_answers: Annotated[list[str], Field(
            description="one or more model answers", min_length=1)],
        answer: Annotated[str, Field(description="the candidate's answer, as free text")],
        criteria: Annotated[list[str] | None, Field(
            description="the key points to check; derived from the first reference answer "
                        "when absent", json_schema_extra=hide_null)] = None,
        critic: Annotated[CriticChoice, Field(
            description="'offline' (default) or, when the server has one, 'llm'/'auto'")
                          ] = "offline",
    ) -> GradeResult:
        """Grades an answer to a question that is not in the bank, against reference answers
        (and key points, if given). Returns the same GradeResult as grade_answer. Use it for
        your own questions only; for bank questions use grade_answer: their rubrics are
        richer."""
        try:
            adhoc = AdhocQuestion(question=question, reference_answers=reference_answers,
                                  criteria=criteria)
            rubric = (await grader_or_error()).resolve(adhoc)
        except ValidationError as error:
            raise ToolError(str(InvalidQuestionError(
                [describe_validation_error(error, root="question", limit=5)]))) from None
        except GraderError as error:
            raise ToolError(str(error)) from error
        return await grade_one(GradeItem(rubric, answer, critic))

    for tool in (list_questions, get_question, grade_answer, grade_adhoc):
        server.add_tool(tool, description=inspect.cleandoc(tool.__doc__ or ""),
                        annotations=reads)
    return server


def _quietly(build: Callable[[], MCPServer[Any]]) -> MCPServer[Any]:
    """``build()``, leaving the root logger as it was: ``MCPServer`` calls
    ``logging.basicConfig`` with its own handler, and logging is the application's to set."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return build()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
