"""``grader batch --engine ray``: the same batch on Ray Data, one ``Grader`` (one model) per actor.

Only Ray plumbing lives here; every row is graded by ``grader.batch.records``. The run:

1. ``ray.data.read_binary_files`` reads each input file (a local path, ``s3://``...); each file is
   parsed by one task with the local engine's reader, so bad rows, line numbers and
   ``input_digest`` are the same as ``--engine local``.
2. A first pass collects a digest of every row's id on the driver (about a hundred bytes a row,
   however long the id): rows are numbered across the files in path order, as if they were one
   file, and a repeated id is found across the whole dataset.
3. A second pass reads the files again and ``map_batches`` grades them on ``concurrency``
   actors, each with ``num_cpus`` CPUs (and as many model threads) and ``num_gpus`` GPUs.
4. The records go to part files in the OUT folder, one per write task, or with ``merge`` to one
   file in input order, byte for byte what ``--engine local`` writes.

The whole of one input file is held by the task that parses it: split a very large input into
several files (which also spreads the parsing).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.batch.errors import BatchError, OutputExistsError
from grader.batch.output import csv_header, encode
from grader.batch.ray_output import PART_PREFIX, write_merged, write_parts
from grader.batch.readers import FORMATS, Format, RowReader, format_of
from grader.batch.records import duplicate_id, grade_output_records
from grader.batch.rows import row_id
from grader.batch.runner import DEFAULT_CONCURRENCY, BatchOptions
from grader.batch.summary import BatchSummary
from grader.errors import CriticUnavailableError, MissingExtraError
from grader.grading import Grader
from grader.settings import Settings

if TYPE_CHECKING:
    import pyarrow

DEFAULT_BATCH_SIZE = 256  # rows per map_batches call: one pass of the model each


@dataclass(frozen=True)
class RayOptions:
    """How to spread a batch over Ray. ``address`` None: ``RAY_ADDRESS``, else a local cluster."""

    address: str | None = None
    concurrency: int = 1  # actors, each holding one model
    num_cpus: float = 1.0  # per actor; the model (torch or ONNX) gets as many threads
    num_gpus: float = 0.0  # per actor; above 0 the model runs on the actor's GPU
    batch_size: int = DEFAULT_BATCH_SIZE
    merge: bool = False  # OUT is one file in input order, not a folder of part files
    llm_concurrency: int = DEFAULT_CONCURRENCY  # LLM critic calls in flight per actor
    progress: bool = True  # Ray Data's progress bars on stderr

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch_size < 1 or self.llm_concurrency < 1:
            raise BatchError("--actors, --batch-size and --concurrency must be at least 1.")
        if self.num_cpus <= 0 or self.num_gpus < 0:
            raise BatchError("--num-cpus must be above 0 and --num-gpus at least 0.")


def run_ray_batch(inputs: Sequence[str], output: str, options: BatchOptions,
                  ray_options: RayOptions, settings: Settings,
                  grader_factory: Callable[[], Grader] | None = None) -> BatchSummary:
    """Grade every row of ``inputs`` (paths, globs, folders or URIs) into ``output`` on Ray.

    ``grader_factory`` builds each actor's grader (it is pickled to the actors); by default
    ``Grader.from_settings(settings)``, on the GPU when ``ray_options.num_gpus`` is above 0.
    """
    ray = _import_ray()
    if options.resume:
        raise BatchError("--resume works with --engine local only; with --engine ray, rerun "
                         "the rows missing from OUT (see the README, 'Scaling out').")
    if options.critic == "llm" and not settings.llm_configured:
        raise CriticUnavailableError()
    paths = resolve_inputs(inputs)
    for path in paths:
        _format_of(path, options.input_format)  # an unknown extension fails before Ray starts
    # a folder of part files has no extension to go by: JSONL unless --output-format says
    output_format = (format_of(Path(output), options.output_format, "output")
                     if ray_options.merge else format_of(Path("x.jsonl"), options.output_format,
                                                         "output"))
    output = _check_output(output, ray_options.merge, options.force)
    if output in paths:
        raise BatchError(f"The output {output} is an input file; write to another file.")
    started = time.perf_counter()
    ray_started_here = not ray.is_initialized()
    if ray_started_here:
        ray.init(address=ray_options.address or os.environ.get("RAY_ADDRESS") or None,
                 include_dashboard=False, log_to_driver=False)
    try:
        if ray_started_here:
            _leave_a_cpu_for_reading(ray, ray_options)
        ray.data.DataContext.get_current().enable_progress_bars = ray_options.progress
        summary = _run(ray, paths, output, output_format, options, ray_options,
                       grader_factory or partial(_grader_from_settings, settings,
                                                 ray_options.num_gpus > 0,
                                                 max(1, int(ray_options.num_cpus))))
    except ray.exceptions.RayError as error:  # an actor that cannot start, a lost node...
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise BatchError(f"The Ray job failed ({type(error).__name__}: {first_line}); the "
                         "cause is above in Ray's log. Rows already in OUT are kept: see "
                         "'Scaling out' in the README to grade only the missing ones.") from error
    finally:
        if ray_started_here:
            ray.shutdown()
    summary.elapsed_s = time.perf_counter() - started
    return summary


def resolve_inputs(inputs: Sequence[str]) -> list[str]:
    """Local globs and folders expanded (sorted), local files made absolute, URIs as given."""
    paths: list[str] = []
    for given in inputs:
        if "://" in given:
            paths.append(given)
            continue
        if glob.has_magic(given):
            matches = sorted(p for p in glob.glob(given, recursive=True) if Path(p).is_file())
            if not matches:
                raise BatchError(f"No input file matches {given!r}; check the pattern.")
            paths += [str(Path(p).resolve()) for p in matches]
        elif Path(given).is_dir():
            found = sorted(p for p in Path(given).iterdir()
                           if p.is_file() and p.suffix.lower() in (".jsonl", ".ndjson", ".csv"))
            if not found:
                raise BatchError(f"The input folder {given} has no .jsonl or .csv file.")
            paths += [str(p.resolve()) for p in found]
        elif Path(given).is_file():
            paths.append(str(Path(given).resolve()))
        else:
            raise BatchError(f"Cannot read input {given}: no such file or folder.")
    if len(set(paths)) != len(paths):
        raise BatchError("An input file is named twice; name each file once.")
    return paths


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise MissingExtraError("--engine ray", "ray", error) from error
    return ray


def _leave_a_cpu_for_reading(ray: Any, ray_options: RayOptions) -> None:
    """Actors that reserve every CPU of the cluster starve the read tasks: the job never ends."""
    cpus = float(ray.cluster_resources().get("CPU", 0))
    reserved = ray_options.concurrency * ray_options.num_cpus
    if reserved > cpus - 1:
        raise BatchError(
            f"{ray_options.concurrency} actor(s) x {ray_options.num_cpus:g} CPU reserve "
            f"{reserved:g} of the local cluster's {cpus:g} CPUs; at least 1 must stay free for "
            "reading the input. Lower --actors or --num-cpus (a fraction, such as 0.5, "
            "is allowed; torch then runs 1 thread).")


def _grader_from_settings(settings: Settings, on_gpu: bool, threads: int) -> Grader:
    return Grader.from_settings(actor_settings(settings, on_gpu, threads))


def actor_settings(settings: Settings, on_gpu: bool, threads: int) -> Settings:
    """An actor's settings: on its GPU when it has one, and its model on its own CPUs only
    (actors side by side must not oversubscribe), unless GRADER_EMBEDDING_THREADS says."""
    update: dict[str, object] = {}
    if on_gpu and settings.embedding_device == "cpu":
        update["embedding_device"] = "cuda"
    if not settings.embedding_threads:
        update["embedding_threads"] = threads
    return settings.model_copy(update=update)


def _format_of(path: str, given: str | None) -> Format:
    return format_of(Path(path.split("?")[0]), given, "input")


def _check_output(output: str, merge: bool, force: bool) -> str:
    """The output made absolute (local), checked as ``plan_batch`` checks a local output."""
    if "://" in output:
        if merge:
            raise BatchError(f"--merge writes one local file; name a local OUTPUT, or leave "
                             f"out --merge to write part files to {output}.")
        return output
    path = Path(output).resolve()
    if merge:
        if path.is_dir():
            raise BatchError(f"The output {path} is a folder; with --merge, name a file.")
        if not path.parent.is_dir():
            raise BatchError(f"The output folder {path.parent} does not exist; create it first.")
        if path.exists() and not force:
            raise OutputExistsError(f"The output {path} already exists. Use --force to replace "
                                    "it.")
        return str(path)
    if path.exists() and not path.is_dir():
        raise BatchError(f"The output {path} is a file; without --merge the Ray engine writes a "
                         "folder of part files. Name a folder, or add --merge.")
    parts = sorted(path.glob(PART_PREFIX + "*")) if path.is_dir() else []
    if parts and not force:
        raise OutputExistsError(f"The output folder {path} already holds part files. Use "
                                "--force to replace them, or choose another folder.")
    for part in parts:
        part.unlink()
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


# -- the passes ---------------------------------------------------------------------------------


def _run(ray: Any, paths: list[str], output: str, output_format: Format, options: BatchOptions,
         ray_options: RayOptions, grader_factory: Callable[[], Grader]) -> BatchSummary:
    # Rows are numbered across the files in path order; with --merge they stay in that order
    # (Ray holds a finished block until the blocks before it are done), so the driver writes
    # them as they come, with no sort.
    ray.data.DataContext.get_current().execution_options.preserve_order = ray_options.merge
    files = ray.data.read_binary_files(sorted(paths), include_paths=True,
                                       override_num_blocks=len(paths))
    parse = {"input_format": options.input_format, "max_row_bytes": options.max_row_bytes}
    ids_by_path: dict[str, list[bytes | None]] = {}
    for key in files.flat_map(_ids_of_file, fn_kwargs=parse).iter_rows():
        ids = ids_by_path.setdefault(key["path"], [])
        ids.extend([None] * (key["row"] - len(ids)))
        ids[key["row"] - 1] = key["own_id"]
    offsets, duplicates, total = _number_rows(ids_by_path)
    if total == 0:  # as the local engine does: an empty output (a header alone, for CSV)
        if ray_options.merge:
            Path(output).write_bytes(csv_header() if output_format == "csv" else b"")
        return BatchSummary()
    records = files.flat_map(_records_of_file, fn_kwargs=parse | {
        "offsets": offsets, "duplicates": duplicates})
    # Blocks of one batch each, so that every actor gets work even from a single file.
    graded = records.repartition(target_num_rows_per_block=ray_options.batch_size).map_batches(
        _GradeBatch, batch_size=ray_options.batch_size, batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=ray_options.concurrency),
        num_cpus=ray_options.num_cpus,
        num_gpus=ray_options.num_gpus or None,
        fn_constructor_kwargs={"grader_factory": grader_factory, "critic": options.critic,
                               "output_format": output_format,
                               "llm_concurrency": ray_options.llm_concurrency,
                               "torch_threads": max(1, int(ray_options.num_cpus))})
    if ray_options.merge:
        summary = write_merged(graded, output, output_format)
    else:
        summary = write_parts(graded, output, output_format)
    if summary.rows != total:  # Ray retried a task twice over, or lost one: never silently
        raise BatchError(f"The input has {total} rows but {summary.rows} were written; rerun "
                         "with --force.")
    return summary


def _number_rows(ids_by_path: dict[str, list[bytes | None]]
                 ) -> tuple[dict[str, int], dict[int, int], int]:
    """Row offsets of the files (in path order), and each repeated id's row -> its first row.

    Ids arrive as digests (``_id_key``), so that a long id costs the driver no more than a short
    one; a row without an id of its own is keyed by its number, as ``row_id`` names it.
    """
    offsets: dict[str, int] = {}
    first_seen: dict[bytes, int] = {}
    duplicates: dict[int, int] = {}
    total = 0
    for path in sorted(ids_by_path):
        offsets[path] = total
        for own_id in ids_by_path[path]:
            total += 1
            key = own_id if own_id is not None else _id_key(str(total))
            earlier = first_seen.setdefault(key, total)
            if earlier != total:
                duplicates[total] = earlier
    return offsets, duplicates, total


def _raw_rows(data: bytes, path: str, input_format: str | None, max_row_bytes: int
              ) -> Iterator[tuple[Any, str]]:
    """The rows of one file as the local reader reads them, each with its ``input_digest``."""
    fmt = _format_of(path, input_format)
    # RowReader reads a file: a temporary copy of the bytes, on the task's local disk
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}") as copy:
        copy.write(data)
        copy.flush()
        with RowReader(Path(copy.name), fmt, max_row_bytes) as reader:
            chain = reader.fingerprint()
            for raw in reader:
                yield raw, chain.add(raw.line, raw.digest)


def _id_key(identifier: str) -> bytes:
    return hashlib.blake2b(identifier.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _own_id(fields: dict[str, object] | None) -> bytes | None:
    """The key of the row's own id as ``row_id`` takes it, or None when its number stands in."""
    if fields is None:
        return None
    value = fields.get("id")
    has_own = (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, int) and not isinstance(value, bool))
    return _id_key(row_id(fields, 0)) if has_own else None


def _ids_of_file(file: dict[str, Any], input_format: str | None, max_row_bytes: int
                 ) -> list[dict[str, Any]]:
    return [{"path": file["path"], "row": raw.row, "own_id": _own_id(raw.fields)}
            for raw, _ in _raw_rows(file["bytes"], file["path"], input_format, max_row_bytes)]


def _records_of_file(file: dict[str, Any], input_format: str | None, max_row_bytes: int,
                     offsets: dict[str, int], duplicates: dict[int, int]
                     ) -> list[dict[str, Any]]:
    """Input records (``grader.batch.records``) of one file; fields travel as JSON text."""
    offset, records = offsets.get(file["path"], 0), []  # a file with no rows has none
    for raw, digest in _raw_rows(file["bytes"], file["path"], input_format, max_row_bytes):
        row = offset + raw.row
        problem = raw.problem
        if problem is None and row in duplicates:
            problem = duplicate_id(row_id(raw.fields or {}, row), duplicates[row])
        records.append({
            "row": row, "line": raw.line, "input_digest": digest,
            # ensure_ascii: a lone surrogate survives as an escape (Arrow strings are UTF-8)
            "fields": json.dumps(raw.fields) if raw.fields is not None else None,
            "error_kind": problem.kind if problem else None,
            "error_message": problem.message if problem else None,
        })
    return records


class _GradeBatch:
    """The ``map_batches`` callable: one grader per actor, built once, used for every batch."""

    def __init__(self, grader_factory: Callable[[], Grader], critic: Any, output_format: Format,
                 llm_concurrency: int, torch_threads: int) -> None:
        import torch

        torch.set_num_threads(torch_threads)  # actors side by side must not oversubscribe
        self._grader = grader_factory()
        self._critic = critic
        self._format = output_format
        uses_llm = self._grader.critic_for(critic) is not self._grader.offline_critic
        self._pool = (ThreadPoolExecutor(llm_concurrency, thread_name_prefix="ray-critic")
                      if uses_llm and llm_concurrency > 1 else None)

    def __call__(self, batch: pyarrow.Table) -> dict[str, list[Any]]:
        records = []
        for row in batch.to_pylist():
            record: dict[str, Any] = {"row": row["row"], "line": row["line"],
                                      "input_digest": row["input_digest"]}
            if row["error_kind"] is not None:
                record["error"] = {"kind": row["error_kind"], "message": row["error_message"]}
            record["fields"] = json.loads(row["fields"]) if row["fields"] is not None else {}
            records.append(record)
        out = grade_output_records(self._grader, records, critic=self._critic, pool=self._pool)
        return {
            "row": [r.row for r in out],
            "text": [encode([r], self._format) for r in out],
            "score": [r.result.score if r.result else None for r in out],
            "verdict": [r.result.verdict if r.result else None for r in out],
            "error_kind": [r.problem.kind if r.problem else None for r in out],
        }


__all__ = ["DEFAULT_BATCH_SIZE", "FORMATS", "RayOptions", "resolve_inputs", "run_ray_batch"]
