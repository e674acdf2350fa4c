"""Ingest question documents (plain text or Markdown) into draft rubric files.

```python
from grader.ingest import ingest
report = ingest(Path("questions.md"), Path("drafts"))
len(report.written), report.warnings
```

Parsing lives in ``parse`` (and ``blocks``), deterministic drafting in ``draft``, LLM drafting
in ``llm``, validated atomic writing in ``write``; ``pipeline`` joins them.
"""

from grader.ingest.draft import draft_rubric, key_points
from grader.ingest.errors import DocumentError, DraftExistsError, IngestError
from grader.ingest.parse import ParsedQuestion, parse_document, parse_file
from grader.ingest.pipeline import Draft, IngestReport, draft_document, ingest
from grader.ingest.write import render_yaml, write_drafts

__all__ = [
    "DocumentError", "Draft", "DraftExistsError", "IngestError", "IngestReport",
    "ParsedQuestion", "draft_document", "draft_rubric", "ingest", "key_points",
    "parse_document", "parse_file", "render_yaml", "write_drafts",
]
