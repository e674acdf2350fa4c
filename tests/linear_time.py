"""Checking that a function's time grows linearly with its input, without a time limit.

The function runs on an input of some size and on one ``factor`` times larger; the ratio of the
two times must stay under ``max_ratio``. Linear code gives about ``factor`` (4 by default),
quadratic code ``factor ** 2`` (16). Times are the thread's CPU time, the best of a few runs, so
other processes on a shared machine barely move them; times under ``FLOOR_S`` count as
``FLOOR_S``, where timer noise would otherwise decide the ratio.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

FLOOR_S = 0.002


def _best_time(func: Callable[[Any], object], value: Any, runs: int,
               good_enough: float = 0.0) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.thread_time()
        func(value)
        best = min(best, time.thread_time() - start)
        if best <= good_enough:  # the check passes already; more runs cannot change that
            break
    return max(best, FLOOR_S)


def assert_linear(func: Callable[[Any], object], make_input: Callable[[int], Any], *,
                  size: int = 10_000, factor: int = 4, max_ratio: float = 8.0,
                  runs: int = 3) -> None:
    """Fail when ``func(make_input(size * factor))`` takes ``max_ratio`` times or more as long
    as ``func(make_input(size))``."""
    small, large = make_input(size), make_input(size * factor)
    small_time = _best_time(func, small, runs)
    large_time = _best_time(func, large, runs, good_enough=small_time * max_ratio / 2)
    ratio = large_time / small_time
    assert ratio < max_ratio, (
        f"{getattr(func, '__name__', func)}: {size * factor:,} items took {ratio:.1f} times as "
        f"long as {size:,} ({large_time:.4f} s against {small_time:.4f} s); linear is about "
        f"{factor}")
