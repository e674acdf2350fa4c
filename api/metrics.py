"""Process metrics in the Prometheus text format (version 0.0.4), without a global registry.

Each app owns one ``Metrics``; with ``--workers N`` every worker process reports its own.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterable

from grader.errors import GraderError
from grader.result import GradeResult

Labels = tuple[tuple[str, str], ...]

#: Methods counted by name; any other token a client sends is counted as "other", so a client
#: cannot add a label value (a counter and a histogram) per request.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT",
                          "TRACE"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _render_labels(labels: Labels, extra: tuple[str, str] | None = None) -> str:
    pairs = [*labels, extra] if extra else list(labels)
    if not pairs:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self._values: dict[Labels, float] = defaultdict(float)
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        with self._lock:
            self._values[tuple(sorted(labels.items()))] += amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            for labels, value in sorted(self._values.items()):
                yield f"{self.name}{_render_labels(labels)} {_number(value)}"


class Histogram:
    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]) -> None:
        self.name, self.help, self.buckets = name, help_text, buckets
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = defaultdict(float)
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            counts[bisect.bisect_left(self.buckets, value)] += 1
            self._sums[key] += value

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        with self._lock:
            for labels, counts in sorted(self._counts.items()):
                running = 0
                for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                    running += count
                    le = "+Inf" if bound == float("inf") else _number(bound)
                    yield f"{self.name}_bucket{_render_labels(labels, ('le', le))} {running}"
                yield f"{self.name}_sum{_render_labels(labels)} {_number(self._sums[labels])}"
                yield f"{self.name}_count{_render_labels(labels)} {running}"


class Metrics:
    """The API's metrics: requests, latencies, grades by verdict and critic, errors, fallbacks."""

    def __init__(self) -> None:
        self.requests = Counter("grader_http_requests_total",
                                "HTTP requests by method, route template and status code.")
        self.latency = Histogram("grader_http_request_duration_seconds",
                                 "HTTP request latency by method and route template.",
                                 LATENCY_BUCKETS)
        self.errors = Counter("grader_errors_total",
                              "Error responses and failed batch items, by error code.")
        self.grades = Counter("grader_grades_total", "Answers graded, by verdict and critic.")
        self.llm_fallbacks = Counter(
            "grader_llm_fallbacks_total",
            "Grades where the LLM critic was not used and the offline critic stood in.")
        self.batch_size = Histogram("grader_batch_size_items",
                                    "Answers graded per embedding call by the dynamic batcher.",
                                    BATCH_BUCKETS)

    def record_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else "other"
        self.requests.inc(method=method, route=route, status=str(status))
        self.latency.observe(seconds, method=method, route=route)

    def record_results(self, results: Iterable[GradeResult | GraderError]) -> None:
        for result in results:
            if isinstance(result, GradeResult):
                self.grades.inc(verdict=result.verdict, critic=result.critic.kind)
                if result.critic.fallback_reason is not None:
                    self.llm_fallbacks.inc()

    def render(self) -> str:
        parts = (self.requests, self.latency, self.errors, self.grades, self.llm_fallbacks,
                 self.batch_size)
        return "\n".join(line for metric in parts for line in metric.render()) + "\n"
