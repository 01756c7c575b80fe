"""The JSON Schema of a pattern file, generated from the pydantic models.

Committed as ``explorer/model/pattern.schema.json`` (``make schema`` refreshes it; a test fails when
it is stale) so that editors can autocomplete pattern files.
"""

from __future__ import annotations

import json
from pathlib import Path

from explorer.model.pattern import Pattern

SCHEMA_PATH = Path(__file__).resolve().parent / "pattern.schema.json"
"""Where the committed schema lives."""


def pattern_schema() -> dict:
    """The JSON Schema of a pattern file, as a dict."""
    schema = Pattern.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Architecture Explorer pattern"
    return schema


def schema_text() -> str:
    """The schema as stable, sorted JSON text (what ``make schema`` writes)."""
    return json.dumps(pattern_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
