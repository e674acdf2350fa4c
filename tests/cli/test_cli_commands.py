"""The first hour with the ``grader`` command (issue 22): checks before the model loads, no
library noise, ``--version``, ``show``, standard input, clear statuses and honest wording."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from grader import Grader, QuestionBank
from grader.cli import main
from grader.cli.grade import render, use_colour
from grader.critic import offline_feedback

REPO = Path(__file__).resolve().parents[2]
ANSWER = "Adam keeps a moving average of the gradient, like momentum."


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the model fails the test: the command must not need it."""
    def refuse(settings: object) -> Grader:
        raise AssertionError("the model was loaded")
    monkeypatch.setattr(Grader, "from_settings", classmethod(lambda cls, s, **_: refuse(s)))


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch, fake_grader: Grader) -> Grader:
    monkeypatch.setattr(Grader, "from_settings", classmethod(lambda cls, s, **_: fake_grader))
    return fake_grader


@pytest.mark.usefixtures("no_model")
@pytest.mark.parametrize(("answer", "said"), [
    (ANSWER, "Unknown question id 'no-such-question'"),
    ("word " * 10_000, "the limit is 20,000"),
], ids=["unknown-question", "answer-over-the-limit"])
def test_grade_checks_the_question_and_answer_before_loading_the_model(
        answer: str, said: str, capsys: pytest.CaptureFixture[str]) -> None:
    question = "no-such-question" if "Unknown" in said else "adam-optimizer"
    assert main(["grade", "--question", question, "--answer", answer]) == 2
    assert said in capsys.readouterr().err


@pytest.mark.usefixtures("no_model")
def test_eval_checks_its_datasets_before_loading_the_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = tmp_path / "labeled.jsonl"
    dataset.write_text('{"question_id": "no-such-question", "answer": "x", "score": 1, '
                       '"scale_max": 5}\n')
    assert main(["eval", str(dataset), "--no-probes"]) == 2
    assert "'no-such-question' is not in the bank" in capsys.readouterr().err


def test_loading_the_model_keeps_library_progress_bars_off_stderr(fake_model: Grader) -> None:
    from transformers.utils import logging as transformers_logging

    transformers_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        assert main(["grade", "-q", "adam-optimizer", "-a", ANSWER]) == 0
        assert not transformers_logging.is_progress_bar_enabled()
    finally:
        transformers_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


@pytest.mark.usefixtures("fake_model")
def test_grade_reads_the_answer_from_standard_input_when_none_is_given(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(ANSWER))
    assert main(["grade", "--question", "adam-optimizer", "--json"]) == 0
    assert '"question_id": "adam-optimizer"' in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("grader 0.")


@pytest.mark.usefixtures("no_model")
def test_show_gives_the_points_and_hints_and_the_reference_only_on_request(
        bank: QuestionBank, capsys: pytest.CaptureFixture[str]) -> None:
    rubric = bank.get("adam-optimizer")
    assert main(["show", "adam-optimizer"]) == 0
    shown = capsys.readouterr().out
    assert rubric.question in shown
    assert all(c.description in shown and c.hint in shown for c in rubric.criteria)
    assert rubric.reference_answers[0] not in shown
    assert main(["show", "adam-optimizer", "--reference"]) == 0
    assert rubric.reference_answers[0] in capsys.readouterr().out
    assert main(["show", "nope"]) == 2
    assert "Unknown question id 'nope'" in capsys.readouterr().err


def test_questions_with_an_unknown_tag_says_so_and_lists_the_tags(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["questions", "--tag", "nope", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no question has the tag 'nope'" in captured.err
    assert "optimization" in captured.err.split("Tags in the bank:")[1]


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; from grader.cli import main; sys.exit(main())",
               "questions", "--json"]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert run.stdout is not None
    run.stdout.close()  # the reader is gone before the first line is written, as with `head`
    _, err = run.communicate(timeout=60)
    assert err.decode() == ""
    assert run.returncode == 141


def test_statuses_are_words_with_a_legend_and_colour_only_where_allowed(
        fake_grader: Grader, monkeypatch: pytest.MonkeyPatch) -> None:
    result = fake_grader.grade("adam-optimizer", ANSWER)
    plain = render(result)
    assert "[x]" not in plain and "[ ]" not in plain and "\033[" not in plain
    assert "met: the answer makes the point" in plain  # the legend
    points = plain.split("Key points")[1].split("\n\n")[0].splitlines()[1:]
    statuses = {line.split()[0] for line in points if not line.lstrip().startswith("evidence:")}
    assert statuses <= {"met", "partly", "missed", "wrong"} and statuses
    assert "\033[" in render(result, colour=True)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_colour(Terminal())
    assert not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Terminal())


@pytest.mark.parametrize("command", ["grade", "batch"])
def test_critic_option_is_explained(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--critic {auto,offline,llm} who judges each key point" in help_text


def test_eval_help_shows_a_plain_percent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    help_text = capsys.readouterr().out
    assert "95%" in help_text and "95%%" not in help_text


def test_one_wrong_claim_is_said_in_the_singular(bank: QuestionBank) -> None:
    rubric = bank.get("adam-optimizer")
    ids = tuple(m.id for m in rubric.misconceptions)
    assert offline_feedback(rubric, (), ids[:1]).summary.endswith(
        "It also contains a wrong claim to fix.")
    assert offline_feedback(rubric, (), ids[:2]).summary.endswith(
        "It also contains 2 wrong claims to fix.")
