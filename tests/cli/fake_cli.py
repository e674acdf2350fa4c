"""``grader`` with the bag-of-words test embedder in place of the model, for subprocess tests:
``python -m tests.cli.fake_cli batch ...`` runs the real command, signals and all, in seconds.

With ``FAKE_GRADER_GATE=PATH`` in the environment, embedding a text that holds the word
``gate`` creates PATH and then waits until the process is stopped: a test that sees PATH knows
the run is in the middle of a chunk, with the chunks before it on disk.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from grader import Grader, QuestionBank, ScoringConfig, Settings
from grader.cli import loading, main
from tests.fakes import FakeEmbedder


class GatedEmbedder(FakeEmbedder):
    def before_embedding(self, texts: Sequence[str]) -> None:
        gate = os.environ.get("FAKE_GRADER_GATE")
        if gate and any("gate" in text.split() for text in texts):
            Path(gate).touch()
            while True:  # until a signal ends the run
                time.sleep(0.05)


def fake_grader(settings: Settings, bank: QuestionBank | None = None) -> Grader:
    return Grader(bank or QuestionBank.from_dir(settings.rubrics_dir), GatedEmbedder(),
                  settings=Settings(scoring=ScoringConfig(offline_judge=False,
                                                          calibrate_score=False)))


if __name__ == "__main__":
    loading.load_grader = fake_grader
    sys.exit(main())
