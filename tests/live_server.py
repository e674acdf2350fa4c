"""One real ``grader serve`` shared by the test modules that need the same one.

Starting a server loads the model (seconds, more on a busy machine), so modules that only call
its API share one per settings, started on first use and stopped when the session ends.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from tests.servers import grader_serve

_running: dict[tuple[tuple[str, str], ...], str] = {}


def shared_grader_serve(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory,
                        **settings: str) -> str:
    """The URL of a ``grader serve`` with ``settings``, started once per session."""
    key = tuple(sorted(settings.items()))
    if key not in _running:
        stack = ExitStack()
        url, _ = stack.enter_context(grader_serve(tmp_path_factory.mktemp("served"), **settings))
        config.add_cleanup(stack.close)
        config.add_cleanup(lambda: _running.pop(key, None))
        _running[key] = url
    return _running[key]
