"""A strong LLM is never throttled by the offline machinery: a stand-in that returns the gold
statuses, each with a verbatim quote, keeps its per-point judgement through grounding,
downgrades and score assembly (criterion-level kappa >= 0.9)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import respx

from grader import GradeItem, Grader, QuestionBank, Settings
from grader.evaluation.criteria import judged, linear_kappa
from grader.llm import ClientSettings, LLMCritic
from tests.llm.llm_helpers import BASE_URL, MODEL, completion

pytestmark = pytest.mark.integration

LABELED = Path(__file__).resolve().parents[2] / "eval" / "labeled"


def rows() -> list[dict[str, object]]:
    # the dev sets only: the frozen test half is measured once, by hand, at the end of a change
    return [json.loads(line) for name in ("interview-dev.jsonl", "bank-dev.jsonl")
            for line in (LABELED / name).read_text(encoding="utf-8").splitlines() if line]


def gold_reply(row: dict[str, object]) -> dict[str, object]:
    answer = str(row["answer"])
    quote = " ".join(answer.split()[:6])  # verbatim: the answer's opening words
    labels = dict(row["criteria_labels"])  # type: ignore[call-overload]
    return {
        "criteria": [{"id": cid, "status": status, "quote": quote if status != "missed" else "",
                      "reason": "Gold label."} for cid, status in labels.items()],
        "misconceptions": [{"id": mid, "quote": quote}
                           for mid in row.get("misconceptions") or []],  # type: ignore[attr-defined]
        "feedback": {"summary": "Judged.", "strengths": [], "missing": [], "corrections": []},
        "injection_attempt": False,
    }


def test_gold_statuses_from_the_llm_survive_grounding(bank: QuestionBank,
                                                      real_grader: Grader) -> None:
    labeled = [row for row in rows() if row["question_id"] in bank]
    by_answer = {str(row["answer"]): row for row in labeled}

    def respond(request: httpx.Request) -> httpx.Response:
        prompt = " ".join(m["content"] for m in json.loads(request.content)["messages"])
        row = next(row for answer, row in by_answer.items() if answer in prompt)
        return completion(json.dumps(gold_reply(row)))

    critic = LLMCritic(ClientSettings(model=MODEL, base_url=BASE_URL, max_retries=0))
    grader = Grader(bank, real_grader.embedder, llm_critic=critic, settings=Settings())
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.post("/chat/completions").mock(side_effect=respond)
        results = grader.grade_many([GradeItem(str(row["question_id"]), str(row["answer"]),
                                               "llm") for row in labeled])
    assert all(not isinstance(r, Exception) and r.critic.kind == "llm" for r in results)
    items = judged([str(r["question_id"]) for r in labeled],
                   [r["criteria_labels"] for r in labeled],  # type: ignore[misc]
                   [r.get("misconceptions") for r in labeled],  # type: ignore[misc]
                   results)  # type: ignore[arg-type]
    gold = np.concatenate([i.gold for i in items])
    predicted = np.concatenate([i.predicted for i in items])
    assert len(items) == len(labeled) > 150
    assert linear_kappa(gold, predicted) >= 0.9
