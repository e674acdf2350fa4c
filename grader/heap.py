"""Handing memory that the model's passes freed back to the system (glibc's ``malloc_trim``).

Torch allocates each pass's tensors with ``malloc``; batches of ever different shapes leave
glibc's heap holding freed memory it never returns. Measured with bench/memory.py (torch, 20,000
answers), the process grew by about 90-190 MB between 10,000 and 20,000 answers, and
``malloc_trim`` took it back to about 780 MB, below its size after start-up. A trim costs
5-10 ms, so it runs at most once every ``every_s`` seconds. Where the C library has no
``malloc_trim`` (musl, macOS), this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


class HeapTrimmer:
    """Call it next to each model pass (the torch embedder calls it before one): it trims the
    heap when ``every_s`` seconds have passed since the last trim. Safe from any thread; a call
    that finds another thread trimming returns."""

    def __init__(self, every_s: float = 2.0, *, clock: Callable[[], float] = time.monotonic,
                 trim: Callable[[int], int] | None = None) -> None:
        self._every_s = every_s
        self._clock = clock
        self._trim = trim if trim is not None else _malloc_trim()
        self._last = clock()
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if self._trim is None or self._clock() - self._last < self._every_s:
            return
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._trim(0)
            self._last = self._clock()
        finally:
            self._lock.release()
