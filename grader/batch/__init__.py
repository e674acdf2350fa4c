"""Batch grading of answer files: JSONL or CSV in, JSONL or CSV out, resumable after a crash.

```python
plan = plan_batch(Path("answers.csv"), Path("grades.jsonl"), BatchOptions())
summary = run_batch(Grader.from_settings(get_settings()), plan)
```
"""

from grader.batch.errors import BatchError, OutputExistsError, ResumeError
from grader.batch.lines import MAX_ROW_BYTES
from grader.batch.output import CSV_COLUMNS, OutputRecord
from grader.batch.readers import FORMATS, MAX_CSV_COLUMNS, STDIO, RowReader, count_rows, is_stream
from grader.batch.records import grade_records, grade_rows
from grader.batch.runner import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONCURRENCY,
    BatchInterrupted,
    BatchOptions,
    BatchPlan,
    Progress,
    plan_batch,
    run_batch,
)
from grader.batch.summary import BatchSummary

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_CONCURRENCY",
    "FORMATS",
    "MAX_CSV_COLUMNS",
    "MAX_ROW_BYTES",
    "STDIO",
    "BatchError",
    "BatchInterrupted",
    "BatchOptions",
    "BatchPlan",
    "BatchSummary",
    "OutputExistsError",
    "OutputRecord",
    "Progress",
    "ResumeError",
    "RowReader",
    "count_rows",
    "grade_records",
    "grade_rows",
    "is_stream",
    "plan_batch",
    "run_batch",
]
