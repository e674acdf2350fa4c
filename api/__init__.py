"""The HTTP API: a thin FastAPI adapter over the ``grader`` library (``grader serve``)."""

from api.app import create_app

__all__ = ["create_app"]
