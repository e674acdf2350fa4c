"""The grader's contract, with a fake embedder: fast and independent of the model."""

from __future__ import annotations

import numpy as np
import pytest

from grader import (
    AdhocQuestion,
    CachedEmbedder,
    CriticUnavailableError,
    EmbeddingCache,
    GradeItem,
    Grader,
    InvalidAnswerError,
    InvalidQuestionError,
    QuestionBank,
    ScoringConfig,
    Settings,
    UnknownQuestionError,
)
from tests.fakes import FakeEmbedder


@pytest.fixture
def grader(bank: QuestionBank, tmp_path) -> Grader:
    return Grader(bank, FakeEmbedder(), settings=Settings(cache_dir=tmp_path, max_answer_chars=500))


def test_unknown_question_names_the_id_and_the_way_out(grader: Grader) -> None:
    with pytest.raises(UnknownQuestionError, match="'nope'.*grader questions"):
        grader.grade("nope", "answer")


def test_answer_over_the_limit_says_the_limit(grader: Grader) -> None:
    with pytest.raises(InvalidAnswerError, match="501 characters; the limit is 500"):
        grader.grade("adam-optimizer", "x" * 501)


def test_wrong_type_is_a_clear_error(grader: Grader) -> None:
    with pytest.raises(InvalidAnswerError, match="must be text"):
        grader.grade("adam-optimizer", 42)  # type: ignore[arg-type]


def test_llm_critic_requested_without_llm(grader: Grader) -> None:
    with pytest.raises(CriticUnavailableError, match="GRADER_LLM_MODEL"):
        grader.grade("adam-optimizer", "answer", critic="llm")


def test_empty_answer_is_a_graded_zero(grader: Grader) -> None:
    result = grader.grade("adam-optimizer", "   \n")
    assert result.score == 0 and result.verdict == "fail" and result.flags == ["empty"]
    assert all(c.status == "missed" and c.evidence is None for c in result.criteria)


def test_grade_many_keeps_order_and_reports_errors_in_place(grader: Grader) -> None:
    items = [
        GradeItem("adam-optimizer", "Adam keeps a moving average of gradients."),
        GradeItem("missing-question", "anything"),
        GradeItem(AdhocQuestion(question="What is a stack?", reference_answers=["LIFO."]), "LIFO"),
        GradeItem("tensor-types", "y" * 600),
    ]
    results = grader.grade_many(items)
    assert [type(r).__name__ for r in results] == [
        "GradeResult", "UnknownQuestionError", "GradeResult", "InvalidAnswerError"
    ]


def test_grade_many_embeds_every_sentence_once_in_one_call(bank: QuestionBank, tmp_path
                                                          ) -> None:
    embedder = FakeEmbedder()
    grader = Grader(bank, embedder, settings=Settings(cache_dir=tmp_path))
    grader.warm_up()
    embedder.calls.clear()
    embedder.token_calls.clear()
    answers = [f"Answer number {i}. Second sentence here." for i in range(5)]
    grader.grade_many([GradeItem("adam-optimizer", answer) for answer in answers])
    # each sentence once; clauses and the whole answer are pooled from the sentences' tokens
    assert embedder.token_calls == [[f"Answer number {i}." if j == 0 else "Second sentence here."
                                     for i in range(5) for j in (0, 1)]]
    # each distinct content word once ("here" is a stop word)
    assert embedder.calls == [["answer", "number", "0", "second", "sentence", "1", "2", "3", "4"]]

    embedder.calls.clear()
    grader.grade_many([GradeItem("adam-optimizer", "Second answer, same words: number 4.")])
    # words seen before come from memory ("same" is a stop word)
    assert embedder.calls == [["words"]]


def test_result_names_its_versions(grader: Grader) -> None:
    result = grader.grade("adam-optimizer", "Adam uses momentum.")
    assert result.versions.rubric_hash == grader.bank.get("adam-optimizer").content_hash
    assert result.versions.embedding_model == "fake-bag-of-words"
    assert result.critic.kind == "offline" and result.critic.fallback_reason is None


def test_rubric_embeddings_survive_a_restart(bank: QuestionBank, tmp_path) -> None:
    first = FakeEmbedder()
    Grader(bank, first, embedding_cache=EmbeddingCache(tmp_path / "e.sqlite3")).warm_up()
    assert first.calls

    second = FakeEmbedder()
    restarted = Grader(bank, second, embedding_cache=EmbeddingCache(tmp_path / "e.sqlite3"))
    restarted.warm_up()
    assert second.calls == [] and second.token_calls == []


def test_answers_are_never_written_to_the_cache(bank: QuestionBank, tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "e.sqlite3")
    grader = Grader(bank, FakeEmbedder(), embedding_cache=cache)
    grader.warm_up()
    stored = cache.count(grader.embedder.model_name)
    grader.grade("adam-optimizer", "A private answer that must not be kept on disk.")
    assert cache.count(grader.embedder.model_name) == stored


def test_cached_embedder_computes_each_text_once(tmp_path) -> None:
    embedder = CachedEmbedder(FakeEmbedder(), EmbeddingCache(tmp_path / "e.sqlite3"))
    embedder.embed(["one", "two", "one"])
    embedder.embed(["two", "three"])
    assert embedder.computed == 3


def test_cache_is_keyed_by_model(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "e.sqlite3")
    cache.put_many("model-a", {"text": np.ones(4, np.float32)})
    assert cache.get_many("model-b", ["text"]) == {}
    assert np.array_equal(cache.get_many("model-a", ["text"])["text"], np.ones(4, np.float32))


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="borderline_threshold"):
        Settings(pass_threshold=40, borderline_threshold=60)


def test_verdict_follows_settings(bank: QuestionBank, tmp_path) -> None:
    answer = bank.get("adam-optimizer").reference_answers[0]
    strict = Grader(bank, FakeEmbedder(), settings=Settings(pass_threshold=100,
                                                            borderline_threshold=99.9))
    lenient = Grader(bank, FakeEmbedder(), settings=Settings(pass_threshold=1,
                                                             borderline_threshold=0))
    assert strict.grade("adam-optimizer", answer).verdict == "fail"
    assert lenient.grade("adam-optimizer", answer).verdict == "pass"


def test_bad_adhoc_question_is_an_error_in_its_place(grader: Grader) -> None:
    bad = AdhocQuestion(question="What is a stack?", reference_answers=["LIFO."], criteria=["ok"])
    results = grader.grade_many([GradeItem(bad, "LIFO"), GradeItem("adam-optimizer", "momentum")])
    assert isinstance(results[0], InvalidQuestionError)
    assert "at least 3 characters" in str(results[0])
    assert results[1].question_id == "adam-optimizer"  # type: ignore[union-attr]


def test_long_input_goes_to_the_model_in_bounded_groups(bank: QuestionBank, tmp_path,
                                                        monkeypatch) -> None:
    monkeypatch.setattr("grader.encoding.CHARS_PER_PASS", 100)
    embedder = FakeEmbedder()
    # strength thresholds: the evidence each answer's own vectors give shows in its statuses
    grader = Grader(bank, embedder, settings=Settings(
        cache_dir=tmp_path, scoring=ScoringConfig(offline_judge=False)))
    grader.warm_up()
    embedder.token_calls.clear()
    answers = [f"Adam keeps a moving average, answer {i}." for i in range(5)]  # 38 characters
    results = grader.grade_many([GradeItem("adam-optimizer", answer) for answer in answers])
    assert embedder.token_calls == [answers[:2], answers[2:4], answers[4:]]
    assert [type(r).__name__ for r in results] == ["GradeResult"] * 5
    assert [r.criteria[0].evidence for r in results] == answers  # each kept its own vectors


# -- issue 16: invisible characters and other scripts ----------------------------------------------


def _hide_in_words(text: str, char: str) -> str:
    """``char`` inside every word of four or more letters, where a reader cannot see it."""
    return " ".join(w[:2] + char + w[2:] if len(w) > 3 else w for w in text.split())


@pytest.mark.parametrize("char", ["\u200b", "\u00ad", "\u2060", "\ufeff"],
                         ids=["zero-width-space", "soft-hyphen", "word-joiner", "bom"])
def test_invisible_characters_do_not_hide_a_restated_question(grader: Grader, char: str) -> None:
    question = grader.bank.get("adam-optimizer").question
    plain = grader.grade("adam-optimizer", question)
    hidden = grader.grade("adam-optimizer", _hide_in_words(question, char))
    assert plain.flags == ["restates_question"]
    assert hidden.flags == plain.flags and hidden.score == plain.score


@pytest.mark.parametrize(("question", "reference"), [
    ("Что такое стек?", "Стек хранит элементы по принципу последним пришёл, первым ушёл."),
    ("स्टैक क्या है?", "स्टैक एक डेटा संरचना है जिसमें अंतिम तत्व पहले निकलता है।"),
    ("Qu'est-ce qu'une pile ?", "Une pile empile les éléments : le dernier entré sort le premier."),
], ids=["russian", "hindi", "french"])
def test_an_answer_in_another_script_is_graded_not_empty(grader: Grader, question: str,
                                                         reference: str) -> None:
    adhoc = AdhocQuestion(question=question, reference_answers=[reference])
    result = grader.grade(adhoc, reference)
    assert "empty" not in result.flags and result.signals.answer_words > 3
    assert result.verdict == "pass"
