"""Freed memory goes back to the system at most once every few seconds (``grader.heap``)."""

from __future__ import annotations

import platform

import pytest

from grader.heap import HeapTrimmer, _malloc_trim


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_trims_once_the_interval_has_passed_and_not_before() -> None:
    clock, calls = Clock(), []
    trimmer = HeapTrimmer(2.0, clock=clock, trim=lambda pad: calls.append(pad) or 1)
    trimmer()
    clock.now += 1.9
    trimmer()
    assert calls == []
    clock.now += 0.2
    trimmer()
    trimmer()
    assert calls == [0]
    clock.now += 2.0
    trimmer()
    assert calls == [0, 0]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_glibcs_malloc_trim_is_found_and_runs() -> None:
    trim = _malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)
