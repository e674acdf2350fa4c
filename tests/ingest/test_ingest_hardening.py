"""Ingest against hostile documents (issue 16): linear time on long lines, readable drafts."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.ingest import ingest
from grader.ingest.blocks import _ATX_HEADING, _heading_title, split_blocks, strip_markup
from grader.ingest.parse import parse_document
from tests.linear_time import assert_linear

_OLD_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


@settings(max_examples=500, deadline=None, database=None, derandomize=True)
@given(st.text(st.sampled_from([" ", "\t", "#", "a", "b", "\u00a0", "\x1c"]), max_size=30))
def test_headings_read_as_before(line: str) -> None:
    old, new = _OLD_ATX_HEADING.match(line), _ATX_HEADING.match(line)
    assert (old is None) == (new is None)
    if old and new:
        assert (old.group(1), old.group(2)) == (new.group(1), _heading_title(new.group(2)))


# (make a line of about n characters, n): the heading lines are short because the old pattern
# was cubic on them (1,500 characters took 4.5 s), so a regression fails in seconds, not hours.
LONG_LINES: dict[str, tuple[Callable[[int], str], int]] = {
    "heading-with-a-space-run": (lambda n: "# x" + " " * n + "y", 400),
    "heading-with-a-tab-run": (lambda n: "# x" + " \t" * (n // 2) + "y", 400),
    "heading-of-hash-pairs": (lambda n: "# " + "# a " * (n // 4), 400),
    "heading-of-hashes": (lambda n: "# x" + " #" * (n // 2) + " y", 400),
    "stars-without-closers": (lambda n: "*a " * (n // 3), 5_000),
    "bold-without-closers": (lambda n: "**a " * (n // 4), 5_000),
    "underscores": (lambda n: "_a " * (n // 3), 5_000),
    "brackets": (lambda n: "[" * n, 5_000),
    "links-without-closers": (lambda n: "[a](" * (n // 4), 5_000),
}


@pytest.mark.parametrize(("make", "size"), LONG_LINES.values(), ids=LONG_LINES.keys())
def test_a_long_line_takes_linear_time(make: Callable[[int], str], size: int) -> None:
    assert_linear(lambda text: split_blocks(text, markdown=True), make, size=size)
    assert_linear(lambda text: parse_document(text, markdown=True), make, size=size)


@pytest.mark.parametrize(("line", "title"), [
    ("# Title", "Title"), ("## Title ##", "Title"), ("### Title #  ", "Title"),
    ("# C#", "C"), ("#   spaced   title   ###", "spaced   title"),
    ("# **Bold** title", "Bold title"),
])
def test_heading_titles(line: str, title: str) -> None:
    assert [b.lines for b in split_blocks(line, markdown=True)] == [(title,)]


def test_markup_within_the_bounds_is_still_removed() -> None:
    long_link_text = "x" * 450
    assert strip_markup(f"see [{long_link_text}](https://a.example/{'p' * 1900})") == (
        f"see {long_link_text}")
    assert strip_markup("**" + "bold " * 90 + "end**") == "bold " * 90 + "end"


def test_drafts_are_readable_by_everyone(markdown_fixture: Path, tmp_path: Path) -> None:
    report = ingest(markdown_fixture, tmp_path)
    assert report.written
    for path in report.written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
