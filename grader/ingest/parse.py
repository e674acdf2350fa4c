"""Find the questions in a document, each with its answer text and enclosing section headings.

A question is a numbered question (``1. What are ANNs?``, ``Q3: Explain dropout``), a heading
or standalone line that ends in ``?``, or a ``Q:`` line. Its body runs to the next question or
section heading. Labels split the body: text under ``Background:`` (or before ``Answer:``) is the
question's context; text after ``Answer:`` / ``Most upvoted answer:`` is the answer; without
labels the whole body is the answer. Code is kept out of both.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from grader.ingest.blocks import Block, split_blocks
from grader.ingest.errors import DocumentError

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")

_NUMBERED = re.compile(r"^(?P<q>(?:Q|Question)\s*)?(?P<n>\d{1,3})\s*[.):]\s+(?P<rest>\S.*)$", re.I)
_Q_PREFIX = re.compile(r"^(?:Q|Question)\s*(?::|\.(?=\s)|\s-\s)\s*(?P<rest>\S.*)$", re.I)
_LABEL = re.compile(r"^(?P<label>[A-Za-z][\w'\u2019 -]{0,40}?)\s*:\s*(?P<rest>.*)$")
_ATTRIBUTION = re.compile(r"\s*\((?:from|source|via|asked (?:at|by))\b[^)]*\)\s*$", re.I)
_IMPERATIVE = re.compile(
    r"^(?:explain|describe|define|compare|contrast|list|name|give|design|implement|derive|"
    r"discuss|outline|show|prove|write|how|what|why|when|which|who|where|is|are|can|does|do)\b",
    re.I,
)
_CONTEXT_LABELS = frozenset({
    "background", "context", "scenario", "problem", "problem statement", "prompt", "task",
    "setup", "dataset", "case", "question", "q",
})
_SMALL_WORDS = frozenset({"with", "from", "into", "over", "than", "that", "this", "your", "vs"})
_MAX_QUESTION_WORDS = 60

Mode = Literal["plain", "context", "answer"]


class ParsedQuestion(BaseModel):
    """A question found in a document, with where it was and what follows it."""

    model_config = ConfigDict(frozen=True)

    question: str
    number: int | None
    section: str | None
    headings: list[str]
    context: str
    answer: str
    line: int
    code_blocks: int = 0


def read_document(path: Path) -> str:
    """The document's text (``-``: standard input); an unreadable file is a ``DocumentError``
    naming it."""
    try:
        if str(path) == "-":
            return sys.stdin.buffer.read().decode("utf-8-sig")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DocumentError(f"Document {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"Cannot read document {path} as UTF-8 text: {exc}.") from exc


def is_markdown(path: Path, text: str) -> bool:
    """Markdown by suffix, or plain-named text with a code fence or two ``#`` headings.

    One ``# line`` alone may be a comment in pasted code, so it does not decide.
    """
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return True
    return "```" in text or len(re.findall(r"^#{1,6} \S", text, re.M)) >= 2


def parse_document(text: str, *, markdown: bool) -> list[ParsedQuestion]:
    """Every question in the text, in document order."""
    walker = _Walker(markdown)
    for block in split_blocks(text, markdown=markdown):
        walker.feed(block)
    return walker.finish()


def parse_file(path: Path) -> list[ParsedQuestion]:
    """Read and parse one document. A document without questions is a ``DocumentError``."""
    text = read_document(path)
    questions = parse_document(text, markdown=is_markdown(path, text))
    if not questions:
        raise DocumentError(
            f"No questions found in {path}. Expected numbered questions such as "
            "'1. What are ANNs?', 'Q: ...' lines, or headings and standalone lines ending in '?', "
            "each followed by its answer."
        )
    return questions


@dataclass
class _Open:
    question: str
    number: int | None
    headings: list[str]
    line: int
    level: int  # heading level of a Markdown question heading; 0 otherwise
    items: list[tuple[Mode, str]] = field(default_factory=list)
    mode: Mode = "plain"
    labelled: bool = False
    code_blocks: int = 0

    def add(self, block: Block) -> None:
        first, *rest = block.lines
        label = _label(first)
        if label is None:
            self.items.append((self.mode, block.text))
            return
        kind, inline = label
        if not self.labelled:  # text before the first label is the question's context
            self.items = [("context", text) for _, text in self.items]
            self.labelled = True
        self.mode = kind
        remainder = Block("paragraph", tuple(filter(None, [inline, *rest])), block.line)
        if remainder.lines:
            self.items.append((kind, remainder.text))

    def close(self) -> ParsedQuestion:
        answer_mode: Mode = "answer" if self.labelled else "plain"
        context = [text for mode, text in self.items if mode == "context"]
        answer = [text for mode, text in self.items if mode == answer_mode]
        return ParsedQuestion(
            question=self.question, number=self.number,
            section=self.headings[-1] if self.headings else None, headings=list(self.headings),
            context="\n\n".join(context), answer="\n\n".join(answer), line=self.line,
            code_blocks=self.code_blocks,
        )


class _Walker:
    """Walks blocks in order, tracking the section headings and the question being read."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.headings: list[tuple[int, str]] = []
        self.current: _Open | None = None
        self.expected = 1  # the next question number expected in this section
        self.list_next = 0  # the next item number of a numbered list inside the current answer
        self.found: list[ParsedQuestion] = []

    def feed(self, block: Block) -> None:
        if block.kind == "code":
            if self.current is not None:
                self.current.code_blocks += 1
            return
        if block.kind == "heading":
            self._heading(block)
            return
        question = self._question_in(block)
        if question is not None:
            number, text, remainder = question
            self._open(number, text, block.line, level=0)
            if remainder is not None and self.current is not None:
                self.current.add(remainder)
        elif not self.markdown and _is_plain_heading(block):
            self._section(1, block.lines[0])
        elif self.current is not None:
            self.current.add(block)
            if item := _NUMBERED.match(block.lines[0]):
                self.list_next = int(item.group("n")) + 1
        # Otherwise it is prose before the first question of a section, which no question owns.

    def finish(self) -> list[ParsedQuestion]:
        self._close()
        return self.found

    def _heading(self, block: Block) -> None:
        title = block.lines[0]
        current = self.current
        if current is not None and _label(title) is None and _label(title + ":") is not None:
            current.add(Block("paragraph", (title + ":",), block.line))  # '### Answer'
            return
        found = _as_question(title, self.expected, explicit=True,
                             continuing=self.expected > 1, heading=True)
        if found is not None:
            self._open(found[0], found[1], block.line, level=block.level)
        elif current is not None and current.level and block.level > current.level:
            current.add(Block("paragraph", (title,), block.line))  # a sub-heading of the answer
        else:
            self._section(block.level, title)

    def _question_in(self, block: Block) -> tuple[int | None, str, Block | None] | None:
        lines = block.lines
        if len(lines) > 1:  # a question line with its answer right under it (Q/A layouts)
            found = _as_question(lines[0], self.expected, explicit=block.emphasised,
                                 continuing=True)
            marked = found is not None and (
                found[0] is not None or block.emphasised or _Q_PREFIX.match(lines[0])
                or _label(lines[1]) is not None
            )
            if found is not None and marked:
                return found[0], found[1], Block("paragraph", lines[1:], block.line + 1)
        if len(lines) <= 3 and len(" ".join(lines).split()) <= _MAX_QUESTION_WORDS:
            found = _as_question(" ".join(lines), self.expected,
                                 explicit=block.emphasised or len(lines) == 1, continuing=True)
            list_item = found is not None and found[0] == self.list_next \
                and not found[1].endswith("?")  # '2. Compute the loss' after '1. Run ...'
            if found is not None and not list_item:
                return found[0], found[1], None
        return None

    def _open(self, number: int | None, text: str, line: int, *, level: int) -> None:
        self._close()
        self.current = _Open(text, number, [title for _, title in self.headings], line, level)
        self.list_next = 0
        if number is not None:
            self.expected = number + 1

    def _section(self, level: int, title: str) -> None:
        self._close()
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, title))
        self.expected, self.list_next = 1, 0

    def _close(self) -> None:
        if self.current is not None:
            self.found.append(self.current.close())
            self.current = None


def _as_question(text: str, expected: int, *, explicit: bool, continuing: bool,
                 heading: bool = False) -> tuple[int | None, str] | None:
    """``(number, question)`` when the text is a question line, else ``None``.

    ``explicit`` says the text stands alone as a heading would (so a bare ``?`` line counts);
    ``continuing`` lets an unpunctuated numbered title count when it continues the numbering;
    a ``heading`` may also be a numbered instruction such as '3. Explain dropout'.
    """
    text = text.strip()
    if not text or len(text.split()) > _MAX_QUESTION_WORDS:
        return None
    numbered = _NUMBERED.match(text)
    if numbered:
        number, rest = int(numbered.group("n")), _clean_question(numbered.group("rest"))
        if (rest.endswith("?") or numbered.group("q") or (heading and _IMPERATIVE.match(rest))
                or (continuing and number == expected and explicit)):
            return number, rest
        return None
    prefixed = _Q_PREFIX.match(text)
    if prefixed:
        return None, _clean_question(prefixed.group("rest"))
    if explicit and text.endswith("?") and (text[0].isupper() or text[0] in "\"'\u201c("):
        return None, _clean_question(text)
    return None


def _clean_question(text: str) -> str:
    return _ATTRIBUTION.sub("", text.strip()).strip()


def _label(line: str) -> tuple[Mode, str] | None:
    """``(mode, text after the label)`` for 'Answer: ...' or a standalone 'Background:' line."""
    match = _LABEL.match(line.strip())
    if not match:
        return None
    label, rest = match.group("label").strip().lower(), match.group("rest").strip()
    if label == "a" or re.search(r"\b(?:answers?|solution|response)$", label):
        return "answer", rest
    if label in _CONTEXT_LABELS and (not rest or label in ("q", "question")):
        return "context", rest
    return None


def _is_plain_heading(block: Block) -> bool:
    """A plain-text section heading: one short title-case line with no closing punctuation."""
    if len(block.lines) != 1:
        return False
    line = block.lines[0]
    tokens = line.split()
    if not 1 <= len(tokens) <= 12 or len(line) > 90 or not line[0].isupper():
        return False
    if line[-1] in ".,;:!?" or re.search(r"[=<>{}\[\]/\\|]", line) or _NUMBERED.match(line):
        return False
    significant = [t for t in tokens
                   if t.isalpha() and len(t) >= 4 and t.lower() not in _SMALL_WORDS]
    return all(token[0].isupper() for token in significant)
