"""Where a `grader serve` process spends its time under load: a py-spy profile, summarised.

Not a test. Starts ``grader serve``, drives it at one concurrency for a while (the clients of
bench/api_throughput.py, in their own process), and samples the server with py-spy
(``pip install py-spy``; it needs ptrace, which containers may forbid). Prints the share of
samples whose stack holds each of the busiest functions (inclusive), and the busiest leaves
(exclusive), over the server's threads with their idle waits left out.

    .venv/bin/python bench/profile_api.py --concurrency 1 --seconds 20 [--raw FILE]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_throughput import build_answers, run_load, start_server  # noqa: E402

#: Leaves that only wait (an idle thread, the event loop's select): not work.
IDLE_LEAVES = ("select (", "wait (threading.py", "_wait_for_tstate_lock", "poll (", "acquire",
               "get (queue.py", "_worker (concurrent")


def summarise(raw: Path, top: int) -> None:
    """Inclusive and exclusive shares from py-spy's collapsed stacks (``--format raw``)."""
    inclusive: collections.Counter[str] = collections.Counter()
    exclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if any(frames[-1].startswith(idle) or idle in frames[-1] for idle in IDLE_LEAVES):
            continue
        count = int(count_text)
        total += count
        exclusive[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{total} busy samples")
    print("\ninclusive (share of busy samples whose stack holds the function):")
    for frame, count in inclusive.most_common(top):
        print(f"  {count / total:6.1%}  {frame}")
    print("\nexclusive (the function itself was running):")
    for frame, count in exclusive.most_common(top):
        print(f"  {count / total:6.1%}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    os.environ.setdefault("TQDM_DISABLE", "1")
    answers = build_answers()
    with tempfile.TemporaryDirectory(prefix="grader-profile-") as cache_dir:
        server, url = start_server(cache_dir)
        try:
            run_load(url, answers, 4, 2)  # untimed warm-up
            raw = args.raw or Path(cache_dir) / "profile.txt"
            spy = subprocess.Popen([py_spy, "record", "--pid", str(server.pid), "--format", "raw",
                                    "--duration", str(int(args.seconds)), "--rate", "200",
                                    "--output", str(raw), "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            rate, p50, p99, errors = run_load(url, answers, args.concurrency, args.seconds)
            _, spy_errors = spy.communicate(timeout=120)
            print(f"concurrency {args.concurrency}: {rate:.1f} requests/s, p50 {p50:.0f} ms, "
                  f"p99 {p99:.0f} ms, {errors} errors, while sampled")
            if spy.returncode != 0:
                raise SystemExit(f"py-spy failed: {spy_errors.decode(errors='replace')[-500:]}")
            summarise(raw, args.top)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
