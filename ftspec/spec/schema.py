"""The spec's JSON Schema, for editors (yaml-language-server) and `ftspec schema`."""

from __future__ import annotations

import json

from ftspec.metrics import METRICS
from ftspec.spec.models import ProjectSpec

SCHEMA_ID = "https://ftspec.dev/schema/v1.json"


def spec_schema() -> dict:
    schema = ProjectSpec.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "ftspec project spec v1"
    # Editors can complete metric names too; the spec validates them against the same registry.
    schema["$defs"]["MetricSpec"]["properties"]["name"]["enum"] = sorted(METRICS)
    return schema


def schema_json() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=True)
