"""What thread safety costs: batch throughput offline, and with an LLM at concurrency 1 and 8.

Not a test: it prints figures. Each source tree given is measured in its own process, one
after another in this one run, on the same answers (built from the bank's texts as in
bench/batch_throughput.py), so a tree before a change and a tree after it compare fairly. The
LLM is a stand-in OpenAI-compatible server on 127.0.0.1 that answers every critique at once,
so the LLM figures measure the grader's side: embedding, locking and threads.

    .venv/bin/python bench/threads.py --trees /path/to/before . --answers 300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def stand_in_llm(bank: Any) -> ThreadingHTTPServer:
    """A server that answers each critique with every criterion missed, at once."""
    by_question = {rubric.question: rubric for rubric in bank}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = " ".join(m["content"] for m in body["messages"])
            rubric = next(r for q, r in by_question.items() if q in prompt)
            reply = {"criteria": [{"id": c.id, "status": "missed", "quote": "", "reason": "-"}
                                  for c in rubric.criteria],
                     "misconceptions": [], "injection_attempt": False,
                     "feedback": {"summary": "-", "strengths": [], "missing": [],
                                  "corrections": []}}
            data = json.dumps({
                "id": "x", "object": "chat.completion", "created": 0, "model": "stand-in",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": json.dumps(reply)}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def worker(answers: int) -> dict[str, Any]:
    """Measure the grader importable from sys.path (the tree under test)."""
    sys.path.insert(0, str(HERE.parent))
    from batch_throughput import make_answers

    from grader import Grader, QuestionBank, Settings
    from grader.batch import BatchOptions, plan_batch, run_batch

    folder = Path(tempfile.mkdtemp())
    bank = QuestionBank.from_dir(Settings().rubrics_dir)
    rows = make_answers(bank, answers)
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    server = stand_in_llm(bank)
    settings = Settings(cache_dir=folder / "cache", llm_model="stand-in", llm_max_retries=0,
                        llm_base_url=f"http://127.0.0.1:{server.server_port}/v1")
    grader = Grader.from_settings(settings)
    grader.warm_up()
    figures: dict[str, Any] = {}
    for name, critic, concurrency in (("offline", "offline", 1), ("llm, concurrency 1", "llm", 1),
                                      ("llm, concurrency 8", "llm", 8)):
        target = folder / f"{name.replace(' ', '').replace(',', '-')}.jsonl"
        started = time.perf_counter()
        try:
            run_batch(grader, plan_batch(source, target, BatchOptions(
                critic=critic, concurrency=concurrency)))  # type: ignore[arg-type]
        except Exception as error:  # the figure is that it failed, and how
            figures[name] = f"failed: {type(error).__name__}: {error}"[:100]
            continue
        figures[name] = round(answers / (time.perf_counter() - started), 1)
    server.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", type=Path, default=[HERE.parent.parent])
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.answers)))
        return
    results = {}
    for tree in args.trees:
        env = {**os.environ, "PYTHONPATH": str(tree.resolve()), "HF_HUB_OFFLINE": "1",
               "TQDM_DISABLE": "1", "GRADER_RUBRICS_DIR": str(tree.resolve() / "rubrics")}
        done = subprocess.run([sys.executable, str(HERE), "--worker", "--answers",
                               str(args.answers)], env=env, capture_output=True, text=True,
                              check=True)
        results[str(tree)] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"answers/s over {args.answers} answers (one run; each tree in its own process)")
    for tree, figures in results.items():
        print(f"{tree}:")
        for name, value in figures.items():
            print(f"  {name:20} {value}")
    if len(results) == 2:
        (_, before), (_, after) = results.items()
        if isinstance(before["offline"], float) and isinstance(after["offline"], float):
            print(f"offline after/before: {after['offline'] / before['offline']:.3f}")


if __name__ == "__main__":
    main()
