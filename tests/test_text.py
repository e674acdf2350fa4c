from grader.adhoc import AdhocQuestion, derive_criteria, rubric_from_adhoc
from grader.text import normalize, split_clauses, split_sentences, token_overlap


def test_sentences_keep_abbreviations_and_split_list_items() -> None:
    text = ("Adam uses momentum, e.g. an EMA of gradients. It adapts steps!\n- bullet one here\n"
            "2. numbered item")
    assert split_sentences(text) == [
        "Adam uses momentum, e.g. an EMA of gradients.",
        "It adapts steps!",
        "bullet one here",
        "numbered item",
    ]


def test_short_fragments_join_their_neighbour() -> None:
    assert split_sentences("Tensors are arrays. Yes. They have a shape.") == [
        "Tensors are arrays. Yes.", "They have a shape."
    ]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("  \n ") == []


def test_clauses_split_long_sentences_without_tiny_pieces() -> None:
    clauses = split_clauses("A stack stores items in order, and it removes the newest item first")
    assert clauses == ["A stack stores items in order", "it removes the newest item first"]


def test_normalize_and_overlap() -> None:
    assert normalize("  Adam\tIS  ﬁne ") == "adam is fine"
    assert token_overlap("What is a tensor?", "what IS a tensor") == 1.0
    assert token_overlap("", "anything") == 0.0


def test_derived_criteria_come_from_the_reference() -> None:
    reference = ("A tensor is an n-dimensional array. It has a shape, a data type and a device, "
                 "and frameworks store it contiguously in memory with strides describing the "
                 "layout.")
    points = derive_criteria(reference)
    assert points[0] == "A tensor is an n-dimensional array."
    assert len(points) >= 3


def test_adhoc_rubric_is_stable_and_uses_given_criteria() -> None:
    question = AdhocQuestion(question="What is a stack?", reference_answers=["LIFO structure."],
                             criteria=["last in, first out"])
    first, second = rubric_from_adhoc(question), rubric_from_adhoc(question)
    assert first == second and first.id.startswith("adhoc-")
    assert [c.description for c in first.criteria] == ["last in, first out"]
