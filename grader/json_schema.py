"""JSON-schema touches for request models that client generators read.

Several OpenAPI client generators trip on a nullable ``anyOf: [X, {"type": "null"}]`` in a
request. An optional request field whose absence means "not given" is shown as plain ``X``
(not required, no default) with ``Field(json_schema_extra=hide_null)``; validation is unchanged,
so an explicit ``null`` is still accepted, as before.
"""

from __future__ import annotations

from typing import Any


def hide_null(schema: dict[str, Any]) -> None:
    """Show ``anyOf: [X, null]`` as ``X``, and drop a ``null`` default (the field is optional).

    >>> schema = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "T"}
    >>> hide_null(schema)
    >>> schema
    {'title': 'T', 'type': 'string'}
    """
    branches = schema.get("anyOf", [])
    kept = [branch for branch in branches if branch != {"type": "null"}]
    if len(branches) == 2 and len(kept) == 1:
        del schema["anyOf"]
        schema.update(kept[0])
    if "default" in schema and schema["default"] is None:
        del schema["default"]
