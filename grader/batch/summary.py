"""Counts for the end-of-run summary: rows, graded, errors, mean score, verdicts, elapsed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BatchSummary:
    """What a batch output holds, including rows a resumed run found already done."""

    rows: int = 0
    graded: int = 0
    errors: int = 0
    resumed: int = 0
    score_total: float = 0.0
    verdicts: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    def count(self, *, score: float | None, verdict: str | None, error_kind: str | None) -> None:
        self.rows += 1
        if error_kind:
            self.errors += 1
            self.error_kinds[error_kind] += 1
        else:
            self.graded += 1
            self.score_total += score or 0.0
            self.verdicts[verdict or "?"] += 1

    def add(self, part: BatchSummary) -> None:
        """Count the rows of another part of the same output (a Ray write task's) here too."""
        self.rows += part.rows
        self.graded += part.graded
        self.errors += part.errors
        self.score_total += part.score_total
        self.verdicts.update(part.verdicts)
        self.error_kinds.update(part.error_kinds)

    @property
    def mean_score(self) -> float | None:
        return self.score_total / self.graded if self.graded else None

    @property
    def rows_per_s(self) -> float:
        return (self.rows - self.resumed) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def render(self) -> str:
        """A few lines for a terminal."""
        mean = f"{self.mean_score:.1f}" if self.mean_score is not None else "-"
        verdicts = ", ".join(f"{name} {self.verdicts[name]}"
                             for name in ("pass", "borderline", "fail")) or "-"
        lines = [
            f"rows: {self.rows}" + (f" ({self.resumed} done before --resume)"
                                    if self.resumed else ""),
            f"graded: {self.graded}   errors: {self.errors}   mean score: {mean}",
            f"verdicts: {verdicts}",
        ]
        if self.error_kinds:
            lines.append("errors by kind: " + ", ".join(
                f"{kind} {n}" for kind, n in sorted(self.error_kinds.items())))
        lines.append(f"elapsed: {self.elapsed_s:.1f}s ({self.rows_per_s:.1f} rows/s)")
        return "\n".join(lines)
