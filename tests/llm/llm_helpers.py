"""Helpers for the LLM tests: canned completions, replies in the critic's format, a harness."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from grader import Grader, Rubric
from grader.llm import ClientSettings, LLMClient, LLMCritic
from grader.llm.cache import LLMReplyCache

BASE_URL = "http://llm.test/v1"
MODEL = "judge-model"

STRONG = (
    "Adam combines momentum and RMSprop. It keeps an exponential moving average of the "
    "gradients (the first moment) and of the squared gradients (the second moment), both "
    "bias-corrected because they start at zero. The step is the learning rate times the "
    "first moment divided by the square root of the second moment plus epsilon, so every "
    "parameter gets its own adaptive step size. It converges fast with little tuning, "
    "though tuned SGD with momentum sometimes generalizes better."
)
WRONG = ("Adam is a kind of regularization that randomly drops neurons during training to avoid "
         "overfitting.")


def completion(content: str | None, *, finish_reason: str = "stop", prompt_tokens: int = 500,
               completion_tokens: int = 120) -> httpx.Response:
    """An OpenAI chat-completion response carrying ``content``."""
    return httpx.Response(200, json={
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": finish_reason,
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    })


def reply(rubric: Rubric, statuses: dict[str, str] | str = "met",
          quotes: dict[str, str] | str = "", *, misconceptions: list[dict[str, str]] | None = None,
          injection: bool = False, summary: str = "Judged.") -> dict[str, Any]:
    """A reply in the critic's format; a str applies to every criterion."""
    def pick(value: dict[str, str] | str, key: str, default: str) -> str:
        return value if isinstance(value, str) else value.get(key, default)

    return {
        "criteria": [{"id": c.id, "status": pick(statuses, c.id, "missed"),
                      "quote": pick(quotes, c.id, ""), "reason": "Because."}
                     for c in rubric.criteria],
        "misconceptions": misconceptions or [],
        "feedback": {"summary": summary, "strengths": ["A model strength."], "missing": [],
                     "corrections": []},
        "injection_attempt": injection,
    }


def ok(rubric: Rubric, *args: Any, **kwargs: Any) -> httpx.Response:
    return completion(json.dumps(reply(rubric, *args, **kwargs)))


def sent(call: Any) -> dict[str, Any]:
    """The JSON body of a recorded request."""
    return dict(json.loads(call.request.content))


@dataclass
class LLMHarness:
    """A grader whose LLM critic talks to a respx route; sleeps are recorded, not slept."""

    router: respx.MockRouter
    route: respx.Route
    grader: Grader
    critic: LLMCritic
    client: LLMClient
    cache: LLMReplyCache
    rubric: Rubric
    sleeps: list[float] = field(default_factory=list)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [sent(call) for call in self.route.calls]


def make_settings(**overrides: Any) -> ClientSettings:
    values: dict[str, Any] = {"model": MODEL, "base_url": BASE_URL, "timeout_s": 5.0,
                              "max_retries": 2, "temperature": 0.0, "max_tokens": 900}
    values.update(overrides)
    return ClientSettings(**values)


