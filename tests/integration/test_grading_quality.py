"""The real embedding model orders answers the way an interviewer would."""

from __future__ import annotations

import pytest

from grader import AdhocQuestion, Grader

pytestmark = pytest.mark.integration

OFF_TOPIC = "My favourite recipe is pasta with tomatoes, garlic and fresh basil from the garden."

ANSWERS = {
    "adam-optimizer": {
        "strong": (
            "Adam combines momentum and RMSprop. It keeps an exponential moving average of the "
            "gradients (the first moment) and of the squared gradients (the second moment), both "
            "bias-corrected because they start at zero. The step is the learning rate times the "
            "first moment divided by the square root of the second moment plus epsilon, so every "
            "parameter gets its own adaptive step size. It converges fast with little tuning, "
            "though tuned SGD with momentum sometimes generalizes better."
        ),
        "partial": (
            "Adam uses momentum, keeping a running average of past gradients to smooth the "
            "updates."
        ),
        "wrong": (
            "Adam is a kind of regularization that randomly drops neurons during training to avoid "
            "overfitting."
        ),
    },
    "feedforward-vs-recurrent": {
        "strong": (
            "In a feed-forward network data flows one way from input to output with no cycles, so "
            "the output depends only on the current input. A recurrent network has loops: it keeps "
            "a hidden state that is fed back at each time step, so it remembers earlier inputs and "
            "can model sequences such as text or time series. RNNs are trained with "
            "backpropagation through time and suffer from vanishing gradients, which LSTMs "
            "mitigate."
        ),
        "partial": (
            "Feed-forward networks pass data straight from input to output. Recurrent networks "
            "have loops."
        ),
        "wrong": "Feed-forward networks are faster. Recurrent networks are used for images.",
    },
    "cnn-image-processing": {
        "strong": (
            "An image is a tensor of pixel intensities: height by width by three color channels, "
            "usually scaled or normalized before training. Convolutional layers slide small "
            "learned filters over the image and share weights across positions, producing feature "
            "maps that detect local patterns such as edges, then textures and object parts in "
            "deeper layers. Pooling or strided convolutions downsample the maps, and at the end "
            "the features are flattened or globally pooled and passed to fully connected layers "
            "for classification."
        ),
        "partial": (
            "The CNN reads the pixel values of the image and applies filters to find features like "
            "edges."
        ),
        "wrong": (
            "A CNN first converts the image into text describing it and then reads that text word "
            "by word."
        ),
    },
    "logistic-regression-coefficients": {
        "strong": (
            "Each coefficient is the change in the log-odds of the outcome for a one-unit increase "
            "in that feature, holding the others fixed, so exponentiating it gives an odds ratio. "
            "For a boolean variable the coefficient compares the log-odds when it is true against "
            "when it is false. For a categorical variable with one-hot or dummy encoding, each "
            "level's coefficient is the log odds ratio of that level relative to the reference "
            "category, and the choice of reference changes the coefficients."
        ),
        "partial": (
            "The coefficients tell you how much each feature pushes the prediction up or down."
        ),
        "wrong": (
            "The coefficient is the probability that the event happens when the variable is true."
        ),
    },
}


@pytest.mark.parametrize("question_id", sorted(ANSWERS))
def test_answers_are_ordered(real_grader: Grader, question_id: str) -> None:
    answers = ANSWERS[question_id]
    results = [real_grader.grade(question_id, text)
               for text in (answers["strong"], answers["partial"], answers["wrong"], "", OFF_TOPIC)]
    strong, partial, wrong, empty, off_topic = (result.score for result in results)
    assert strong > partial > max(wrong, empty, off_topic), (strong, partial, wrong, off_topic)
    # Not a fail. These compact answers each leave a point out or have one the judge misses,
    # and the calibrated score is an expert's expected share: 60-65 here. The judge is known to
    # under-score compact complete answers (README, "Per-point judgement").
    assert results[0].verdict != "fail", strong
    # A wrong answer fails. (Graded credit gives on-topic half-truths a little: the feed-forward
    # one scores 35, and a recipe scores 0.4 where a wrong claim's penalty takes a wrong
    # logistic-regression answer to 0.)
    assert results[2].verdict == "fail" and wrong < 40
    assert empty == 0 and off_topic < 10


@pytest.mark.parametrize("question_id", sorted(ANSWERS))
def test_restating_the_question_scores_near_zero(real_grader: Grader, question_id: str) -> None:
    rubric = real_grader.bank.get(question_id)
    result = real_grader.grade(question_id, rubric.question)
    assert result.score <= 10 and result.verdict == "fail"


def test_strong_answer_is_credited_with_evidence(real_grader: Grader) -> None:
    result = real_grader.grade("adam-optimizer", ANSWERS["adam-optimizer"]["strong"])
    assert result.verdict != "fail"
    made = [c for c in result.criteria if c.status != "missed"]
    assert len(made) >= 5 and sum(c.status == "met" for c in made) >= 2
    assert all(c.evidence and c.evidence in ANSWERS["adam-optimizer"]["strong"] for c in made)
    assert not result.misconceptions


def test_known_misconception_is_reported(real_grader: Grader) -> None:
    answer = ("Adam keeps a moving average of the gradients like momentum. "
              "Adam does not need a learning rate because it adapts the step size by itself.")
    result = real_grader.grade("adam-optimizer", answer)
    assert [m.id for m in result.misconceptions] == ["no-learning-rate"]
    assert "learning rate" in result.misconceptions[0].evidence
    assert result.feedback.corrections


def test_feedback_gives_hints_not_the_reference(real_grader: Grader) -> None:
    result = real_grader.grade("adam-optimizer", ANSWERS["adam-optimizer"]["partial"])
    rubric = real_grader.bank.get("adam-optimizer")
    assert result.feedback.missing
    for reference in rubric.reference_answers:
        assert all(reference not in hint for hint in result.feedback.missing)


def test_adhoc_question_orders_answers(real_grader: Grader) -> None:
    question = AdhocQuestion(
        question="What is a stack?",
        reference_answers=["A stack is a last-in, first-out data structure: push adds an item "
                           "to the top and pop removes the most recently added item."],
    )
    good = real_grader.grade(
        question, "A stack is LIFO: you push items on top and pop the newest one off first.")
    poor = real_grader.grade(
        question,
        "A stack is a data structure where the first item in is the first out, like a queue.")
    assert good.score > poor.score
    assert good.question_id.startswith("adhoc-")



def test_same_input_same_output(real_grader: Grader) -> None:
    answer = ANSWERS["feedforward-vs-recurrent"]["strong"]
    first = real_grader.grade("feedforward-vs-recurrent", answer).model_dump_json()
    batch = real_grader.grade_many([])
    assert batch == []
    second = real_grader.grade("feedforward-vs-recurrent", answer).model_dump_json()
    assert first == second
