"""Print how drafts from the source document grade the test answers, beside the hand-written bank.

    .venv/bin/python -m tests.ingest.compare_with_bank

Not a test: a figure for review. Uses the real embedding model and the answers in
``test_ingest_grading.CASES``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader import Grader, Settings
from grader.bank import load_rubric
from grader.ingest import ingest
from tests.ingest.test_ingest_grading import CASES
from tests.shared_files import SOURCE_DOCUMENT

#: The hand-written rubric for the same question of the source document.
BANK_IDS = {
    "deep-learning-work": "what-is-deep-learning",
    "deep-learning-important": "why-deep-learning-matters",
    "different-types-neural-networks-deep-learning": "neural-network-types",
    "deep-learning-neural-networks-not-used": "when-not-to-use-deep-learning",
    "differences-machine-learning-neural-networks": "ml-vs-deep-learning",
    "data-structured-represented-deep-learning": "data-representation-tensors",
    "cnns-process-images": "cnn-image-processing",
    "interpret-coefficients-logistic-regression-categorical-boolean":
        "logistic-regression-coefficients",
    "anns": "ann-basics",
    "designing-neural-networks-optimization-adam-optimizer": "adam-optimizer",
    "architecture-behind-cnns": "cnn-architecture",
    "types-tensors": "tensor-types",
    "difference-feed-forward-neural-networks-recurrent": "feedforward-vs-recurrent",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        drafts = Path(folder)
        ingest(SOURCE_DOCUMENT, drafts)
        grader = Grader.from_settings(Settings())
        rows = []
        for draft_id, good, poor in CASES:
            draft = load_rubric(drafts / f"{draft_id}.yaml")
            bank_id = BANK_IDS[draft_id]
            rows.append((draft_id, *(grader.grade(q, a).score for q in (draft, bank_id)
                                     for a in (good, poor))))
    print(f"{'draft id':48} {'draft good':>10} {'poor':>6} {'bank good':>10} {'poor':>6}")
    for draft_id, draft_good, draft_poor, bank_good, bank_poor in rows:
        print(f"{draft_id[:48]:48} {draft_good:10.1f} {draft_poor:6.1f} {bank_good:10.1f} "
              f"{bank_poor:6.1f}")
    means = [sum(row[i] for row in rows) / len(rows) for i in range(1, 5)]
    print(f"{'mean':48} {means[0]:10.1f} {means[1]:6.1f} {means[2]:10.1f} {means[3]:6.1f}")


if __name__ == "__main__":
    main()
