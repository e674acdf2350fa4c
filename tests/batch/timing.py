"""Time checks as ratios between two input sizes, never as limits on a clock."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

# Linear work on an input k times larger takes about k times as long; quadratic work k*k. The
# margin absorbs a shared, loaded machine and fixed costs, and still tells the two apart at k=8.
MARGIN = 3.0


def best_time(work: Callable[[], object], repeats: int = 3) -> float:
    """The shortest of ``repeats`` runs, in seconds: the run least disturbed by other load."""
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def assert_linear(small: Callable[[], object], large: Callable[[], object],
                  size_ratio: float) -> None:
    """``large`` (an input ``size_ratio`` times ``small``'s) takes at most ``MARGIN`` times the
    linear share of time more than ``small``."""
    small_s, large_s = best_time(small), best_time(large)
    ratio = large_s / max(small_s, 1e-4)
    assert ratio < MARGIN * size_ratio, (
        f"{size_ratio:g}x the input took {ratio:.1f}x the time ({small_s:.4f}s, then "
        f"{large_s:.4f}s); linear is about {size_ratio:g}x, quadratic {size_ratio ** 2:g}x")
