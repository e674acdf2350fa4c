"""Where the Ray engine's records go: part files written by Ray's write tasks, or one merged file.

Each record arrives already encoded (``text``: its JSONL line or CSV record, as the local engine
writes it), with its ``row`` and what the summary counts (``score``, ``verdict``, ``error_kind``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.batch.errors import BatchError
from grader.batch.output import csv_header
from grader.batch.readers import Format
from grader.batch.summary import BatchSummary

PART_PREFIX = "part-"


def _summarize(rows: Iterable[dict[str, Any]], summary: BatchSummary) -> None:
    for row in rows:
        summary.count(score=row["score"], verdict=row["verdict"], error_kind=row["error_kind"])


def write_merged(graded: Any, output: str, output_format: Format) -> BatchSummary:
    """One file in row order, written whole and then moved into place (a killed run leaves no
    half-written OUT)."""
    summary = BatchSummary()
    target = Path(output)
    partial_path = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with partial_path.open("wb") as handle:
            if output_format == "csv":
                handle.write(csv_header())
            for batch in graded.iter_batches(batch_format="pyarrow", batch_size=4096):
                rows = batch.column("row").to_pylist()
                if rows != list(range(summary.rows + 1, summary.rows + 1 + len(rows))):
                    raise BatchError(f"Ray returned rows out of order (after row {summary.rows})"
                                     "; please report it. Without --merge, OUT is a folder of "
                                     "part files, which need no order.")
                handle.write(b"".join(batch.column("text").to_pylist()))
                _summarize(batch.select(["score", "verdict", "error_kind"]).to_pylist(),
                           summary)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial_path, target)
    finally:
        partial_path.unlink(missing_ok=True)
    return summary


class _PartWriter:
    """What each write task does: its blocks' records to one part file of OUT."""

    def __init__(self, folder: str, output_format: Format) -> None:
        self.folder = folder
        self.format = output_format
        self.run = uuid.uuid4().hex[:8]

    def write(self, blocks: Iterable[Any], task_index: int) -> BatchSummary:
        import pyarrow.fs
        from ray.data.block import BlockAccessor

        summary = BatchSummary()
        filesystem, folder = pyarrow.fs.FileSystem.from_uri(self.folder)
        stream = None
        try:
            for block in blocks:
                table = BlockAccessor.for_block(block).to_arrow()
                if table.num_rows == 0:
                    continue
                if stream is None:  # no empty part files
                    name = f"{folder}/{PART_PREFIX}{self.run}-{task_index:05d}.{self.format}"
                    stream = filesystem.open_output_stream(name)
                    if self.format == "csv":
                        stream.write(csv_header())
                stream.write(b"".join(table.column("text").to_pylist()))
                _summarize(table.select(["score", "verdict", "error_kind"]).to_pylist(), summary)
        finally:
            if stream is not None:
                stream.close()
        return summary


def write_parts(graded: Any, folder: str, output_format: Format) -> BatchSummary:
    """Part files in ``folder``, one per write task; the summary of what they hold."""
    from ray.data.datasource import Datasink

    writer = _PartWriter(folder, output_format)
    summary = BatchSummary()

    class PartFiles(Datasink[BatchSummary]):
        def write(self, blocks: Iterable[Any], ctx: Any) -> BatchSummary:
            return writer.write(blocks, ctx.task_idx)

        def on_write_complete(self, write_result: Any) -> None:
            for part in write_result.write_returns:
                summary.add(part)

    graded.write_datasink(PartFiles())
    return summary
