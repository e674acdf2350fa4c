"""Drafts from the source document grade answers sensibly as written, with the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import Grader
from grader.bank import load_rubric
from grader.ingest import ingest

pytestmark = pytest.mark.integration

# (draft id, a good answer in the candidate's own words, a poor answer: vague or wrong)
CASES = [
    ("deep-learning-work",
     "Deep learning uses artificial neural networks with many layers of neurons, each neuron "
     "computing a weighted sum of its inputs followed by an activation function. A network "
     "counts as deep when it has more than three layers, including the input and output layers. "
     "Stacked layers learn increasingly abstract representations of the input data, so the "
     "network approximates the function from inputs to outputs.",
     "Deep learning is when a computer thinks very deeply about a problem."),
    ("deep-learning-important",
     "Deep learning matters because it learns patterns from data instead of relying on "
     "hand-written rules. A rule-based sentiment analyser with if-else checks on words like "
     "good or bad breaks on context such as negation, and patching every case by hand is "
     "impossible. A trained network learns those patterns, including context, from examples, "
     "which is vital when there are too many cases and variables to code manually.",
     "It is important because many companies use it."),
    ("different-types-neural-networks-deep-learning",
     "The most common types are convolutional neural networks, which use convolution layers "
     "and specialise in images and computer vision; multilayer perceptrons, which are "
     "feed-forward networks of fully connected layers; and recurrent networks such as long "
     "short-term memory networks, which retain and recall information over long sequences.",
     "There are big networks and small networks."),
    ("deep-learning-neural-networks-not-used",
     "Deep learning is not always the right tool. With small data or simple problems a simpler "
     "machine learning model is often as good and far cheaper, since deep models need more "
     "processing power for a slight gain. Deep networks also need long training times, which "
     "rules them out when time is limited, and they usually need GPUs to train in reasonable time.",
     "You should always use deep learning because it is the most accurate method."),
    ("differences-machine-learning-neural-networks",
     "Deep learning, which uses neural networks, is a subset of machine learning rather than a "
     "separate field. Classical machine learning models work well on lower-spec hardware and "
     "are cheaper to train and run. Deep learning uses many layers and heavy GPU computation "
     "and can be more accurate on large data, and it can learn patterns without supervision, "
     "but it needs much more training data.",
     "Machine learning and neural networks are completely unrelated fields."),
    ("data-structured-represented-deep-learning",
     "Data are represented as tensors, n-dimensional arrays: a vector is one-dimensional, a "
     "matrix two-dimensional, and higher-rank tensors hold things like batches of images. In "
     "memory a tensor is usually stored as one contiguous block with strides for each index, so "
     "a matrix can be viewed as a flat vector, although some implementations use "
     "non-contiguous layouts.",
     "Data is stored in spreadsheets and text files."),
    ("cnns-process-images",
     "A CNN sees an image as numbers: each pixel has red, green and blue intensities, so an "
     "image becomes three two-dimensional matrices, one per colour channel, typically with "
     "8-bit values. Raw high-resolution images are huge, so convolution layers with small "
     "filters extract features and, together with pooling, reduce the size while keeping the "
     "important information before the result is flattened for the final layers.",
     "CNNs look at the picture like a human does and describe it in words."),
    ("interpret-coefficients-logistic-regression-categorical-boolean",
     "A logistic regression coefficient is a change in log odds. For a boolean variable it is "
     "the log odds ratio between true and false, holding the other variables constant. For a "
     "categorical variable encoded with dummy variables, each category's coefficient is the log "
     "odds ratio of the event for that category relative to the reference category; "
     "exponentiating gives the odds ratio.",
     "The coefficient is the probability that the event happens."),
    ("anns",
     "An artificial neural network is a model loosely inspired by the brain, built from layers "
     "of connected nodes. An input layer receives the features, hidden layers transform them "
     "with weights, biases and activations, and the output layer produces the prediction, often "
     "a probability. It is trained with forward passes and backpropagation to reduce the error.",
     "ANNs are a type of database used to store images."),
    ("designing-neural-networks-optimization-adam-optimizer",
     "Adam combines momentum with RMSprop. It keeps an exponential moving average of the "
     "gradients and of the squared gradients, and divides the first by the square root of the "
     "second plus a small epsilon, so each parameter gets its own adaptive step size. This "
     "usually converges faster than plain SGD.",
     "Adam is an optimizer. It optimizes the network."),
    ("architecture-behind-cnns",
     "A CNN starts with an input layer holding the image's pixel values. Convolution layers "
     "slide learned filters over it to produce feature maps, pooling layers reduce the "
     "dimensionality and the number of parameters, and fully connected layers at the end take "
     "the flattened features and output class probabilities through a softmax.",
     "CNNs are recurrent networks that read text one word at a time."),
    ("types-tensors",
     "There are variables, whose values change during training and hold the model's trainable "
     "parameters; constants, whose values stay fixed for the whole program; and placeholders, "
     "which have no value at first and are filled with data later when the graph runs.",
     "Tensors come in many sizes."),
    ("difference-feed-forward-neural-networks-recurrent",
     "In a feed-forward network information moves only forward, from the input layer through "
     "the hidden layers to the output, with no cycles, so each output depends only on the "
     "current input. A recurrent network has loops: its hidden state is fed back into itself, "
     "so earlier inputs influence the current output, which suits sequences such as text or "
     "time series. Feed-forward nets are typical for pattern recognition.",
     "Both are kinds of neural networks that are used in deep learning for different tasks."),
]


@pytest.fixture(scope="module")
def drafts_dir(source_document: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drafts")
    ingest(source_document, folder)
    return folder


def test_drafts_grade_good_answers_above_poor_ones(real_grader: Grader, drafts_dir: Path
                                                   ) -> None:
    """Every answerable question of the source document (the Airbnb case has no answer)."""
    scores: dict[str, tuple[float, float]] = {}
    for draft_id, good, poor in CASES:
        rubric = load_rubric(drafts_dir / f"{draft_id}.yaml")  # the file as written, unedited
        assert rubric.draft is True
        good_result, poor_result = (real_grader.grade(rubric, answer) for answer in (good, poor))
        assert good_result.question_id == draft_id
        scores[draft_id] = (good_result.score, poor_result.score)

    assert all(good > poor for good, poor in scores.values()), scores
    mean_good = sum(good for good, _ in scores.values()) / len(scores)
    mean_poor = sum(poor for _, poor in scores.values()) / len(scores)
    assert mean_good - mean_poor >= 30, scores
    # most drafts give a good answer at least a borderline grade as written
    assert sum(good >= 40 for good, _ in scores.values()) >= 0.7 * len(scores), scores
