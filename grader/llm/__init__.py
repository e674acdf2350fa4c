"""The LLM critic: judgement from any OpenAI-compatible model, grounded and checked in code.

Importing this package imports ``openai``; the grader imports it only when an LLM is configured.
"""

from grader.llm.client import ClientSettings, LLMClient, complete_structured, shared_client
from grader.llm.llm_critic import LLMCritic

__all__ = ["ClientSettings", "LLMClient", "LLMCritic", "complete_structured", "shared_client"]
