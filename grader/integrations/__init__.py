"""Adapters for the tools that grade LLM outputs: eval harnesses call the grader in their shape.

``evaluator`` is a LangSmith / openevals evaluator; ``promptfoo`` holds the payloads of
promptfoo's ``webhook`` assertion (served by the API at ``POST /v1/integrations/promptfoo``).
Neither imports the harness's own package.
"""

from grader.integrations.evaluator import EvaluatorResult, evaluator
from grader.integrations.questions import question_from

__all__ = ["EvaluatorResult", "evaluator", "question_from"]
