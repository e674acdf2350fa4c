"""``grader batch --engine ray``: the Ray options of ``grader batch``, and the run behind them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.batch import STDIO, BatchOptions
from grader.batch.errors import BatchError
from grader.settings import get_settings

ENGINES = ("local", "ray")


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engine`` and the options only the Ray engine reads."""
    from grader.batch.ray_engine import DEFAULT_BATCH_SIZE

    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: this process (default); ray: Ray Data, one model per actor "
                             "(pip install 'grader[ray]')")
    ray = parser.add_argument_group("--engine ray")
    ray.add_argument("--ray-address", metavar="ADDRESS",
                     help="the Ray cluster to join (default: RAY_ADDRESS, else a local one)")
    ray.add_argument("--actors", type=_positive_int, default=1, metavar="N",
                     help="actors grading at once, each holding one model (default 1)")
    ray.add_argument("--num-cpus", type=_positive_float, default=1.0, metavar="N",
                     help="CPUs per actor; torch runs as many threads (default 1)")
    ray.add_argument("--num-gpus", type=_non_negative_float, default=0.0, metavar="N",
                     help="GPUs per actor; above 0 the model runs on it (default 0)")
    ray.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE,
                     metavar="N", help=f"rows per model pass (default {DEFAULT_BATCH_SIZE})")
    ray.add_argument("--merge", action="store_true",
                     help="OUTPUT is one file in input order, not a folder of part files")


def run_ray(args: argparse.Namespace, options: BatchOptions) -> int:
    """Grade ``args.input`` into ``args.output`` on Ray; the summary on stderr."""
    from grader.batch.ray_engine import RayOptions, run_ray_batch

    if str(STDIO) in (*args.input, args.output):
        raise BatchError("Standard input and output (-) work with --engine local only; with "
                         "--engine ray, name files, folders or URIs.")
    ray_options = RayOptions(
        address=args.ray_address, concurrency=args.actors, num_cpus=args.num_cpus,
        num_gpus=args.num_gpus, batch_size=args.batch_size, merge=args.merge,
        llm_concurrency=options.concurrency, progress=not args.quiet and sys.stderr.isatty())
    summary = run_ray_batch(args.input, args.output, options, ray_options, get_settings())
    if not args.quiet:
        print(summary.render(), file=sys.stderr)
    return 0


def use_local_paths(args: argparse.Namespace) -> None:
    """For the local engine: one INPUT (or ``-``) and OUTPUT as paths; Ray's options refused.

    INPUT and OUTPUT are read as text, so that a URI (``s3://bucket/key``) reaches Ray whole.
    """
    if args.merge or args.ray_address or args.actors != 1 or args.num_gpus:
        raise BatchError("--merge, --ray-address, --actors and --num-gpus need --engine ray.")
    if len(args.input) != 1:
        raise BatchError(f"The local engine grades one INPUT, not {len(args.input)}; give one "
                         "file, or use --engine ray for several files, globs or folders.")
    args.input, args.output = Path(args.input[0]), Path(args.output)


def _positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return int(value)


def _positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {value:g}")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value:g}")
    return value


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
