"""Finding questions, their sections and their answers in plain text and Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.ingest import DocumentError, parse_document, parse_file

BASIC = "Basic Deep Learning Interview Questions"
INTERMEDIATE = "Intermediate Deep Learning Interview Questions"
ADVANCED = "Advanced Deep Learning Interview Questions"

SOURCE_QUESTIONS = [
    ("What Is Deep Learning and How Does It Work?", "Overview", None),
    ("Why Is Deep Learning Important?", "Overview", None),
    ("What Are the Different Types of Neural Networks in Deep Learning?", "Overview", None),
    ("What are ANNs?", BASIC, 1),
    ("When Should Deep Learning Neural Networks Not Be Used?", BASIC, 2),
    ("What are the Differences Between Machine Learning and Neural Networks?", BASIC, 3),
    ("What Are the Types of Tensors?", INTERMEDIATE, 1),
    ("What Is the Difference Between Feed-Forward Neural Networks and Recurrent Neural "
     "Networks?", INTERMEDIATE, 2),
    ("Airbnb: Brazilian Bookings Recommendations", ADVANCED, 1),
    ("How Is Data Structured and Represented in Deep Learning?", ADVANCED, 2),
    ("How Do CNNs Process Images?", ADVANCED, 3),
    ("When Designing Neural Networks for Optimization, How Does the Adam Optimizer Differ From "
     "Other Optimization Methods?", ADVANCED, 4),
    ("How Would You Interpret Coefficients of Logistic Regression for Categorical and Boolean "
     "Variables?", ADVANCED, 5),
    ("What Is the Architecture Behind CNNs?", ADVANCED, 6),
]


def test_source_document_every_question_with_its_section(source_document: Path) -> None:
    questions = parse_file(source_document)
    assert [(q.question, q.section, q.number) for q in questions] == SOURCE_QUESTIONS


def test_source_document_answers_run_to_the_next_question(source_document: Path) -> None:
    by_question = {q.question: q for q in parse_file(source_document)}

    anns = by_question["What are ANNs?"]
    assert anns.answer.startswith("Artificial neural networks are models that simulate")
    assert anns.answer.endswith("before the final output is provided.")
    assert anns.context == ""

    # The section intro before the first Overview question belongs to no question.
    first = by_question["What Is Deep Learning and How Does It Work?"]
    assert "marketing term" not in first.answer
    assert first.answer.endswith("mathematical models for function approximation.")

    # Bullets become '- ' items; the next section heading ends the answer.
    types = by_question["What Are the Different Types of Neural Networks in Deep Learning?"]
    assert "\n- Multilayer perceptrons: Feed-forward" in types.answer
    assert "Basic Deep Learning" not in types.answer

    # Pseudo-code is counted, and kept out of the answer text.
    important = by_question["Why Is Deep Learning Important?"]
    assert important.code_blocks == 1
    assert "std::string" not in important.answer
    assert "To avoid this logical error" in important.answer


def test_source_document_labels_split_context_from_answer(source_document: Path) -> None:
    by_number = {(q.section, q.number): q for q in parse_file(source_document)}

    adam = by_number[(ADVANCED, 4)]
    assert adam.context.startswith("It is also important to consider what the benefits are")
    assert adam.answer.startswith("Adam optimizer combines SDG with momentum and RMSprop.")
    assert "upvoted" not in adam.answer

    logistic = by_number[(ADVANCED, 5)]
    assert logistic.answer.startswith("Coefficient means log odds ratio")
    assert "upvoted" not in logistic.answer

    # The take-home case has a background and no answer; the attribution is dropped.
    airbnb = by_number[(ADVANCED, 1)]
    assert "Interview Query" not in airbnb.question
    assert airbnb.answer == ""
    assert airbnb.context.startswith("Knowing which home listings to recommend")
    assert airbnb.context.rstrip().endswith("and finally, book.")


def test_markdown_fixture_questions_sections_and_headings(markdown_fixture: Path) -> None:
    questions = parse_file(markdown_fixture)
    title = "Neural Network Training FAQ"
    assert [(q.question, q.section, q.number, q.headings) for q in questions] == [
        ("What is dropout and why does it help?", "Regularization", None,
         [title, "Regularization"]),
        ("Why does L2 weight decay reduce overfitting?", "Regularization", None,
         [title, "Regularization"]),
        ("What happens if the learning rate is too high?", "Learning rates", 1,
         [title, "Optimization", "Learning rates"]),
        ("How does a learning-rate warm-up help?", "Learning rates", 2,
         [title, "Optimization", "Learning rates"]),
        ("What is gradient clipping?", "Learning rates", None,
         [title, "Optimization", "Learning rates"]),
        ("Explain what batch normalization computes", "Batch Normalization", 1,
         [title, "Batch Normalization"]),
    ]


def test_markdown_fixture_answers(markdown_fixture: Path) -> None:
    q = {item.question: item for item in parse_file(markdown_fixture)}
    dropout = q["What is dropout and why does it help?"]
    assert dropout.answer.startswith("During training, dropout randomly sets")
    # a wrapped bullet stays one item
    assert "\n- At inference time all units are kept, and activations are scaled so" \
        in dropout.answer

    weight_decay = q["Why does L2 weight decay reduce overfitting?"]
    assert weight_decay.answer.startswith("L2 weight decay adds the sum of squared weights")
    assert "Answer" not in weight_decay.answer and "**" not in weight_decay.answer

    too_high = q["What happens if the learning rate is too high?"]
    assert too_high.code_blocks == 1
    assert "lr = 0.1" not in too_high.answer and "Is this a question" not in too_high.answer

    warm_up = q["How does a learning-rate warm-up help?"]
    assert "and Adam statistics" in warm_up.answer  # code span markup removed

    clipping = q["What is gradient clipping?"]
    assert clipping.answer.startswith("Gradient clipping rescales the gradient")

    batch_norm = q["Explain what batch normalization computes"]
    assert batch_norm.answer.startswith("For each feature, batch normalization subtracts")
    assert batch_norm.context == ""


def test_markdown_numbered_section_headings_are_not_questions() -> None:
    text = ("# Guide\n\n## 1. Introduction\n\nThis guide has one question.\n\n"
            "### 1. Explain backpropagation\n\nIt applies the chain rule layer by layer, "
            "from the loss back to every weight.\n")
    questions = parse_document(text, markdown=True)
    assert [(q.question, q.section, q.number) for q in questions] == [
        ("Explain backpropagation", "1. Introduction", 1)]


def test_plain_numbered_steps_inside_an_answer_stay_in_it() -> None:
    text = ("Training\n\n1. How do you train a network?\n\nYou repeat three steps.\n\n"
            "1. Run the forward pass\n\n2. Compute the loss\n\n3. Update the weights\n\n"
            "2. What is an epoch?\n\nOne pass over the whole training set.\n")
    questions = parse_document(text, markdown=False)
    assert [(q.question, q.number) for q in questions] == [
        ("How do you train a network?", 1), ("What is an epoch?", 2)]
    assert "Compute the loss" in questions[0].answer


def test_a_document_without_questions_says_what_was_expected(tmp_path: Path) -> None:
    document = tmp_path / "notes.txt"
    document.write_text("Some notes.\n\nNothing here is asked, only stated.\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="numbered questions") as raised:
        parse_file(document)
    assert "ending in '?'" in str(raised.value) and str(document) in str(raised.value)


def test_unreadable_documents_are_named(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        parse_file(tmp_path / "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81 not text")
    with pytest.raises(DocumentError, match="binary.txt"):
        parse_file(binary)


def test_q_and_a_lines_and_lookalikes() -> None:
    text = ("Q: What is a loss function?\nA: A measure of how far predictions are from targets.\n\n"
            "Question-answering systems are one use of transformers.\n\n"
            "Q. Why normalise inputs?\n\nSo that features share a scale and training is stable.\n")
    questions = parse_document(text, markdown=False)
    assert [(q.question, q.answer) for q in questions] == [
        ("What is a loss function?", "A measure of how far predictions are from targets.\n\n"
         "Question-answering systems are one use of transformers."),
        ("Why normalise inputs?", "So that features share a scale and training is stable."),
    ]


def test_plain_text_is_sniffed_for_markdown(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("Basics\n\n1. What is a tensor?\n\nAn n-dimensional array.\n\n"
                     "# a comment pasted from code\n", encoding="utf-8")
    assert [q.section for q in parse_file(plain)] == ["Basics"]  # still plain text
    markdownish = tmp_path / "notes.txt"
    markdownish.write_text("# Notes\n\n## Basics\n\n### What is a tensor?\n\nAn n-dimensional "
                           "array.\n", encoding="utf-8")
    assert [q.headings for q in parse_file(markdownish)] == [["Notes", "Basics"]]
