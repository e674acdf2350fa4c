"""``--engine ray`` grades the same records as ``--engine local``, on one local Ray cluster.

The cluster is started once (2 CPUs) and every Ray run uses one actor of 1 CPU: an actor that
reserved both CPUs would starve the read tasks and hang the job. Run with ``-s`` to see the
equality test's records, local and Ray, side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grader import Grader, QuestionBank, ScoringConfig, Settings
from grader.batch import BatchOptions, BatchSummary, plan_batch, run_batch
from grader.batch.ray_engine import RayOptions, run_ray_batch
from grader.cli import main
from grader.critic import Critique, CritiqueRequest
from grader.settings import get_settings
from tests.batch.batch_files import read_jsonl, write_csv, write_jsonl
from tests.batch.test_batch_concurrency import SlowFakeLLMCritic
from tests.batch.test_batch_concurrency import rows as llm_rows
from tests.fakes import MAX_ANSWER_CHARS, FakeEmbedder

ray = pytest.importorskip("ray", reason="the Ray tests need the ray extra: "
                                        "pip install -e '.[ray]'")

pytestmark = pytest.mark.ray

REPO = Path(__file__).resolve().parents[2]
GOOD = ("Adam keeps a moving average of the gradients, like momentum, and divides each step by "
        "the root of a moving average of squared gradients, like RMSprop.")
STACK = {"question": "What is a stack?",
         "reference_answer": "A stack is a last-in, first-out collection: push adds on top, "
                             "pop removes the top."}
#: One row of every kind the reader and the row checks tell apart, and a few good ones.
MIXED_ROWS: list[Any] = [
    {"id": "good", "question_id": "adam-optimizer", "answer": GOOD},
    {"id": "lost", "question_id": "no-such-question", "answer": GOOD},
    '{"id": "torn", "question_id": "adam-optimizer", "answer": "no closing',
    "",  # a blank line is not a row
    {"id": "long", "question_id": "adam-optimizer", "answer": "x" * (MAX_ANSWER_CHARS + 1)},
    {"id": "typed", "question_id": "adam-optimizer", "answer": 42},
    {"id": "empty-q", "answer": GOOD},
    {"id": "good", "question_id": "adam-optimizer", "answer": "a repeated id"},
    {"question_id": "adam-optimizer", "answer": GOOD, "student": "no id: its row number"},
    {**STACK, "id": "adhoc", "answer": "A stack is last in first out; pop takes the top."},
    [1, 2, 3],
    '{"id": "surrogate", "question_id": "adam-optimizer", "answer": "half \\ud800 a pair"}',
]
MIXED_KINDS = [None, "unknown_question", "malformed_json", "invalid_answer", "wrong_type",
               "missing_field", "duplicate_id", None, None, "malformed_json", "invalid_answer"]


def fake_grader() -> Grader:
    """The fake_grader fixture's grader, built where it is called: in each Ray actor."""
    return Grader(QuestionBank.from_dir(REPO / "rubrics"), FakeEmbedder(), settings=Settings(
        max_answer_chars=MAX_ANSWER_CHARS,
        scoring=ScoringConfig(offline_judge=False, calibrate_score=False)))


class PeakCritic(SlowFakeLLMCritic):
    """The fake LLM critic, naming in each critique the most calls it has seen in flight."""

    def critique(self, request: CritiqueRequest) -> Critique:
        critique = super().critique(request)
        info = critique.info.model_copy(update={"model": f"peak {self.peak}"})
        return replace(critique, info=info)


LLM_CONCURRENCY = 3
FAILING = "Answer 4: Adam keeps moving averages of gradients."


def llm_grader() -> Grader:
    """A grader whose LLM critic is the fake: built in each actor, as the real one would be."""
    return Grader(QuestionBank.from_dir(REPO / "rubrics"), FakeEmbedder(),
                  llm_critic=PeakCritic(limit=LLM_CONCURRENCY, failing_answers={FAILING}))


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local cluster for every Ray test; actors find ``tests`` and stay offline."""
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # one line per pass is noise here
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={
        "env_vars": {"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
                     "TRANSFORMERS_OFFLINE": "1"}})
    yield
    ray.shutdown()


def grade_local(grader: Grader, source: Path, target: Path) -> BatchSummary:
    return run_batch(grader, plan_batch(source, target, BatchOptions()))


def grade_ray(sources: list[Path], target: Path, *, merge: bool = True) -> BatchSummary:
    """The Ray engine with the fake grader, one actor of 1 CPU."""
    return run_ray_batch(
        [str(path) for path in sources], str(target), BatchOptions(),
        RayOptions(concurrency=1, num_cpus=1, batch_size=64, merge=merge, progress=False),
        Settings(), grader_factory=fake_grader)


def parts_of(folder: Path) -> list[dict[str, Any]]:
    """Every record of the part files, in row order."""
    records = [record for part in sorted(folder.glob("part-*.jsonl"))
               for record in read_jsonl(part)]
    return sorted(records, key=lambda record: record["row"])


@pytest.mark.integration
def test_ray_gives_the_local_records_with_the_real_model(
        ray_cluster: None, bank: QuestionBank, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[Any] = []
    for n, rubric in enumerate(list(bank)[:6]):
        answer = (rubric.reference_answers[0], rubric.criteria[0].description,
                  "I am not sure, maybe it depends.")[n % 3]
        rows.append({"id": f"q{n}", "question_id": rubric.id, "answer": answer})
    rows += [{**STACK, "id": "adhoc", "answer": "Last in, first out: pop takes the top."},
             "not json", {"id": "q0", "question_id": "adam-optimizer", "answer": "again"}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    # Like the actor, a grader of its own with an empty cache folder: the session's shared
    # grader may have loaded the word table (a server test's warm-up builds it), and table
    # vectors differ from words embedded in the answer's pass in the last digit of a score.
    local_grader = Grader.from_settings(Settings(cache_dir=tmp_path / "local-cache"))
    grade_local(local_grader, source, tmp_path / "local.jsonl")
    # The command, with the settings it reads: the actor builds Grader.from_settings, with a
    # cache folder of its own, so that it embeds every answer itself.
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "ray-cache"))
    get_settings.cache_clear()
    try:
        assert main(["batch", str(source), "-o", str(tmp_path / "ray"), "--engine", "ray",
                     "--num-cpus", "1", "--quiet"]) == 0
    finally:
        get_settings.cache_clear()

    local, remote = read_jsonl(tmp_path / "local.jsonl"), parts_of(tmp_path / "ray")
    print(f"\n{'row':>3} {'id':<6} {'local: score verdict statuses / error':<58} ray")
    for mine, theirs in zip(local, remote, strict=True):
        print(f"{mine['row']:>3} {mine['id']:<6} {describe(mine):<58} {describe(theirs)}")
    graded = sum("error" not in record for record in remote)
    print(f"{len(local)} rows; {graded} graded, {len(local) - graded} errors; "
          f"records equal: {local == remote}")
    assert [key(record) for record in remote] == [key(record) for record in local]
    assert remote == local  # and every other field too: feedback, signals, versions


def key(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record["id"], record["row"], record.get("score"), record.get("verdict"),
            [c["status"] for c in record.get("criteria", [])], record.get("error"))


def describe(record: dict[str, Any]) -> str:
    if "error" in record:
        return f"error {record['error']['kind']}"
    statuses = ",".join(c["status"] for c in record["criteria"])
    return f"{record['score']:g} {record['verdict']} {statuses}"


def test_ray_writes_one_row_for_each_mixed_row(ray_cluster: None, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", MIXED_ROWS)
    with source.open("ab") as handle:
        handle.write(b'{"id": "latin1", "question_id": "adam-optimizer", "answer": "caf\xe9"}\n')
    summary = grade_ray([source], tmp_path / "out", merge=False)

    records = parts_of(tmp_path / "out")
    assert [record["row"] for record in records] == list(range(1, len(MIXED_KINDS) + 2))
    kinds = [record["error"]["kind"] if "error" in record else None for record in records]
    assert kinds == [*MIXED_KINDS, "not_utf8"]
    assert records[7]["id"] == "8"  # no id of its own: its row number, as locally
    assert "already used by row 1" in records[6]["error"]["message"]
    assert (summary.rows, summary.errors) == (len(records), len(records) - 3)


def test_ray_reads_two_files_as_one_dataset(ray_cluster: None, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [
        {"id": "a1", "question_id": "adam-optimizer", "answer": GOOD},
        {"question_id": "adam-optimizer", "answer": "no id"},
    ])
    write_csv(tmp_path / "b.csv", ["id", "question_id", "answer"], [
        ["b1", "adam-optimizer", GOOD],
        ["", "adam-optimizer", "no id either"],
        ["a1", "adam-optimizer", "an id the other file used"],
    ])
    (tmp_path / "c.jsonl").write_text("\n")  # a file with no rows adds none
    summary = grade_ray([tmp_path / "*.*"], tmp_path / "out.jsonl")  # a glob: every file

    records = read_jsonl(tmp_path / "out.jsonl")
    assert [(r["id"], r["row"], r["line"]) for r in records] == [
        ("a1", 1, 1), ("2", 2, 2), ("b1", 3, 2), ("4", 4, 3), ("a1", 5, 4)]
    assert records[4]["error"]["kind"] == "duplicate_id"  # found across the files
    assert "already used by row 1" in records[4]["error"]["message"]
    assert summary.rows == 5


def test_ray_critiques_with_the_llm_up_to_its_concurrency_per_actor(
        ray_cluster: None, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", llm_rows(9))
    run_ray_batch([str(source)], str(tmp_path / "out.jsonl"), BatchOptions(),
                  RayOptions(num_cpus=1, merge=True, llm_concurrency=LLM_CONCURRENCY,
                             progress=False), Settings(), grader_factory=llm_grader)

    critics = [record["critic"] for record in read_jsonl(tmp_path / "out.jsonl")]
    assert [critic["kind"] for critic in critics] == ["llm"] * 4 + ["offline"] + ["llm"] * 4
    assert critics[4]["fallback_reason"]  # the failed call fell back, and says so
    assert max(int(c["model"].split()[1]) for c in critics if c["kind"] == "llm") == (
        LLM_CONCURRENCY)


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_ray_merge_is_byte_identical_to_local(ray_cluster: None, tmp_path: Path,
                                              suffix: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", MIXED_ROWS)
    grade_local(fake_grader(), source, tmp_path / f"local.{suffix}")
    grade_ray([source], tmp_path / f"ray.{suffix}")

    merged = (tmp_path / f"ray.{suffix}").read_bytes()
    assert merged == (tmp_path / f"local.{suffix}").read_bytes()
    assert merged.count(b"\n") == len(MIXED_KINDS) + (suffix == "csv")


def test_ray_refuses_to_replace_an_output_without_force(ray_cluster: None,
                                                        tmp_path: Path) -> None:
    from grader.batch import OutputExistsError

    source = write_jsonl(tmp_path / "in.jsonl", MIXED_ROWS[:1])
    (tmp_path / "out.jsonl").write_text("kept\n")
    with pytest.raises(OutputExistsError, match="--force"):
        grade_ray([source], tmp_path / "out.jsonl")
    assert (tmp_path / "out.jsonl").read_text() == "kept\n"


def test_a_local_cluster_keeps_a_cpu_for_reading() -> None:
    """Actors that reserve every CPU would starve the read tasks: refused, with what to do."""
    from types import SimpleNamespace

    from grader.batch.errors import BatchError
    from grader.batch.ray_engine import _leave_a_cpu_for_reading

    two_cpus = SimpleNamespace(cluster_resources=lambda: {"CPU": 2.0})
    _leave_a_cpu_for_reading(two_cpus, RayOptions(concurrency=1, num_cpus=1))
    _leave_a_cpu_for_reading(two_cpus, RayOptions(concurrency=2, num_cpus=0.5))
    with pytest.raises(BatchError, match="Lower --actors or --num-cpus"):
        _leave_a_cpu_for_reading(two_cpus, RayOptions(concurrency=2, num_cpus=1))


def test_an_actors_model_runs_on_its_own_cpus_and_gpu() -> None:
    """Actors side by side must not each take every core (ONNX Runtime's default)."""
    from grader.batch.ray_engine import actor_settings

    plain = actor_settings(Settings.defaults(), on_gpu=False, threads=2)
    assert plain.embedding_threads == 2 and plain.embedding_device == "cpu"
    assert actor_settings(Settings.defaults(), on_gpu=True, threads=1).embedding_device == "cuda"
    chosen = Settings.defaults().model_copy(update={"embedding_threads": 3})
    assert actor_settings(chosen, on_gpu=False, threads=1).embedding_threads == 3
