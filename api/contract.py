"""The committed API contract, ``openapi.json``: what generated clients are built from.

``make openapi`` rewrites it (``python -m api.contract openapi.json``);
tests/api/test_openapi_contract.py fails when the served schema drifts from it. The contract is
the app's schema with API keys required, so it documents the bearer scheme and the 401s, and
with every other setting at its default (``GRADER_*`` variables are ignored here).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from api.app import create_app
from api.settings import ApiSettings

CONTRACT = Path(__file__).resolve().parent.parent / "openapi.json"


def contract_schema() -> dict[str, Any]:
    """The OpenAPI schema of an app with default settings and API keys required."""
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("GRADER_")}
    try:
        settings = ApiSettings(api_keys=[SecretStr("contract")])
    finally:
        os.environ.update(saved)
    return create_app(api_settings=settings).openapi()


def render(schema: dict[str, Any]) -> str:
    """The file's text: stable key order, two-space indents, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else CONTRACT
    target.write_text(render(contract_schema()), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
