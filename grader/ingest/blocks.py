"""From a document's text to blocks: headings, paragraphs and code, with Markdown markup removed.

Plain text and Markdown share one block model. Markdown adds explicit headings (``#`` and
underlined Setext ones) and fenced code; plain text marks headings only by layout, which
``grader.ingest.parse`` recognises from the paragraphs produced here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["heading", "paragraph", "code"]

# The closing run of '#'s is stripped in code (``_heading_title``): a lazy ``(.*?)`` followed
# by ``\s*#*\s*$`` backtracked in cubic time on a long line of '# ' pairs.
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*)$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u25aa\u25cf\u2023\u2043]|\d{1,3}[.)])\s+")
_HORIZONTAL_RULE = re.compile(r"^ {0,3}(?:[-*_]\s*){3,}$")
# Each opening '[' or '*' scans ahead for its closer; bounding how far keeps a line of openers
# without closers linear (unbounded, 6,000 characters of '*a ' took 0.2 s, and a
# 100,000-character line would take a minute). Link text and emphasis longer than 500
# characters, or a URL longer than 2,000, keep their markup.
_LINK = re.compile(r"!?\[([^\]]{0,500})\]\([^)]{0,2000}\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.{1,500}?)(?<=\S)\1")
_WHOLLY_EMPHASISED = re.compile(r"^\s*(\*\*|__|\*|_)(?=\S).+(?<=\S)\1\s*$")
_CODE_SPAN = re.compile(r"`([^`]*)`")
# Signals that a plain-text paragraph is source code rather than prose.
_CODE_SIGNALS = re.compile(r"[{};]\s*$|^\s*(?://|#include|def |class |return\b|for\s*\(|if\s*\()")


@dataclass(frozen=True)
class Block:
    """One heading, paragraph or code block, with the 1-based line it starts on."""

    kind: BlockKind
    lines: tuple[str, ...]
    line: int
    level: int = 0  # heading level, 1 for '#'; 0 for anything else
    emphasised: bool = False  # Markdown: the first line was wholly bold or italic

    @property
    def text(self) -> str:
        """The block as prose: bullet items on their own lines, wrapped lines joined."""
        out: list[str] = []
        for line in self.lines:
            if out and not _BULLET.match(line):
                out[-1] = f"{out[-1]} {line.strip()}"
            else:
                out.append(bulleted(line))
        return "\n".join(out)


def bulleted(line: str) -> str:
    """A list item as ``- item``; any other line unchanged."""
    match = _BULLET.match(line)
    if match and not re.match(r"^\s*\d", line):
        return "- " + line[match.end():].strip()
    return line


def strip_markup(line: str) -> str:
    """Inline Markdown removed: emphasis, code spans, links, block quotes, escapes."""
    line = re.sub(r"^\s*>\s?", "", line)
    line = _LINK.sub(r"\1", line)
    line = _CODE_SPAN.sub(r"\1", line)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        line = _EMPHASIS.sub(r"\2", line)
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!])", r"\1", line).strip()


def _heading_title(text: str) -> str:
    """An ATX heading's text without its closing sequence: trailing whitespace, then trailing
    '#'s, then the whitespace before them (``"Title ## "`` gives ``"Title"``)."""
    return text.rstrip().rstrip("#").rstrip()


def looks_like_code(lines: tuple[str, ...]) -> bool:
    """A plain-text paragraph that is mostly code (pseudo-code in an article, for example)."""
    hits = sum(1 for line in lines if _CODE_SIGNALS.search(line))
    return len(lines) >= 2 and hits * 2 >= len(lines)


def split_blocks(text: str, *, markdown: bool) -> list[Block]:
    """Split a document into blocks. Blank lines separate paragraphs."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[Block] = []
    paragraph: list[str] = []
    start = 0
    fence: str | None = None
    code: list[str] = []

    def flush() -> None:
        nonlocal paragraph
        if paragraph:
            block = _paragraph_block(paragraph, start, markdown=markdown)
            if block.lines:  # markup alone, such as a stray '**', leaves nothing to read
                blocks.append(block)
            paragraph = []

    for number, line in enumerate(raw, start=1):
        if markdown and fence is not None:
            if line.strip().startswith(fence):
                blocks.append(Block("code", tuple(code), start))
                fence, code = None, []
            else:
                code.append(line)
            continue
        if markdown and (opened := _FENCE.match(line)):
            flush()
            fence, code, start = opened.group(1)[:3], [], number
            continue
        if markdown and (heading := _ATX_HEADING.match(line)):
            flush()
            if title := strip_markup(_heading_title(heading.group(2))):
                blocks.append(Block("heading", (title,), number, len(heading.group(1))))
            continue
        if (markdown and len(paragraph) == 1 and _SETEXT_UNDERLINE.match(line)
                and (title := strip_markup(paragraph[0]))):
            level = 1 if line.strip().startswith("=") else 2
            blocks.append(Block("heading", (title,), start, level))
            paragraph = []
            continue
        if not line.strip() or (markdown and _HORIZONTAL_RULE.match(line)):
            flush()
            continue
        if not paragraph:
            start = number
        paragraph.append(line)
    flush()
    if fence is not None:  # an unclosed fence runs to the end of the document, as in Markdown
        blocks.append(Block("code", tuple(code), start))
    return blocks


def _paragraph_block(lines: list[str], start: int, *, markdown: bool) -> Block:
    if not markdown and looks_like_code(tuple(lines)):
        return Block("code", tuple(lines), start)
    if markdown and all(line.startswith(("    ", "\t")) for line in lines) and not any(
        _BULLET.match(line) for line in lines
    ):
        return Block("code", tuple(lines), start)  # an indented Markdown code block
    cleaned = tuple(strip_markup(line) if markdown else line.strip() for line in lines)
    emphasised = markdown and bool(_WHOLLY_EMPHASISED.match(lines[0]))
    return Block("paragraph", tuple(line for line in cleaned if line), start,
                 emphasised=emphasised)
